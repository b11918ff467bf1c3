"""Backoff bounds, and the vendors that need optional packages."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from oxy.config.models import AnthropicModelConfig, LiteLLMModelConfig, LocalModelConfig
from oxy.errors import ModelError, NotSupported
from oxy.models import ModelResponse, ResponseDone, RetryPolicy, TextDelta, Usage, UserMessage, client_for
from oxy.testing import Fail, Reply, ScriptedModelServer


def test_full_jitter_stays_under_the_cap() -> None:
    policy = RetryPolicy(backoff=0.5, max_delay=4.0)
    for attempt in range(8):
        ceiling = min(4.0, 0.5 * 2**attempt)
        assert all(0 <= policy.delay(attempt) <= ceiling for _ in range(50))
    assert policy.delay(3, retry_after=1.5) == 1.5
    assert policy.delay(3, retry_after=60) <= 4.0  # a longer Retry-After than the cap is not obeyed


@pytest.mark.anyio
@pytest.mark.skipif(importlib.util.find_spec("litellm") is not None, reason="litellm is installed")
async def test_litellm_vendors_say_what_to_install(anyio_backend: str) -> None:
    cfg = AnthropicModelConfig(name="claude", vendor="anthropic", model_ref="claude-sonnet-4-6")
    client = client_for(cfg, project_root=Path("."))  # building is free: litellm is imported on first use
    with pytest.raises(NotSupported, match=r"pip install 'oxy-engine\[litellm\]'"):
        await client.request([UserMessage(content="hi")])
    other = LiteLLMModelConfig(name="m", vendor="litellm", model_ref="mistral/mistral-large-latest")
    assert repr(client_for(other, project_root=Path("."))) == (
        "LiteLLMClient(name='m', model='mistral/mistral-large-latest')"
    )


@pytest.mark.anyio
async def test_local_model_file_is_resolved_against_the_project(anyio_backend: str, tmp_path: Path) -> None:
    cfg = LocalModelConfig(name="mine", vendor="local", model_ref="models/missing.gguf")
    client = client_for(cfg, project_root=tmp_path)
    expected = str(tmp_path / "models" / "missing.gguf")
    with pytest.raises(
        ModelError, match=f"Model 'mine' \\(local\\): no GGUF file at '{re.escape(expected)}'"
    ):
        await client.request([UserMessage(content="hi")])


@pytest.mark.anyio
@pytest.mark.skipif(importlib.util.find_spec("litellm") is None, reason="litellm is not installed")
async def test_litellm_streams_and_retries(anyio_backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OXY_LITELLM_KEY", "sk-test")
    with ScriptedModelServer(
        [Fail(status=500), Reply(text="hello there", usage=Usage(input_tokens=3, output_tokens=2))]
    ) as server:
        cfg = LiteLLMModelConfig(
            name="lite",
            vendor="litellm",
            model_ref="openai/scripted",  # litellm's OpenAI-compatible provider, pointed at the server
            api_url=server.base_url,
            key_var="OXY_LITELLM_KEY",
            retry_backoff=0,
        )
        deltas = [
            d async for d in client_for(cfg, project_root=Path(".")).stream([UserMessage(content="hi")])
        ]
    assert deltas == [
        TextDelta("hello"),
        TextDelta(" there"),
        ResponseDone(
            ModelResponse(
                text="hello there", usage=Usage(input_tokens=3, output_tokens=2), finish_reason="stop"
            )
        ),
    ]
    assert len(server.requests) == 2
