"""The one way in: `run_file` returns the whole run, with ready models and extra tools handed in."""

from __future__ import annotations

import shutil
from pathlib import Path

import anyio
import pytest

from oxy import Runtime, load_project, run_file
from oxy.events.sinks import ListSink
from oxy.events.types import RunStarted, ToolResultEvent
from oxy.execution.context import Caller, ExecutionContext
from oxy.models.messages import AssistantMessage, SystemMessage, ToolCall, ToolMessage, Usage, UserMessage
from oxy.testing import Reply, ScriptedModel, tool_call

QUICKSTART = Path(__file__).resolve().parents[2] / "projects" / "quickstart"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    shutil.copytree(QUICKSTART, root)
    return root


def order_status(order_id: int) -> dict[str, object]:
    """Look up where an order is."""
    return {"order_id": order_id, "status": "shipped"}


def test_a_yaml_agent_runs_with_a_python_function_as_an_extra_tool(project: Path) -> None:
    model = ScriptedModel(
        [
            Reply(
                tool_calls=[tool_call("order_status", {"order_id": 7}, id="c1")],
                usage=Usage(input_tokens=10, output_tokens=2),
            ),
            Reply(text="Order 7 has shipped.", usage=Usage(input_tokens=20, output_tokens=5)),
        ]
    )
    # The documented three lines (docs/embedding.md):
    runtime = Runtime.for_project(load_project(project), models={"smollm2": model}, tools=[order_status])
    result = anyio.run(
        lambda: run_file(project / "agents/analyst.agent.yml", runtime=runtime, prompt="Order 7?")
    )
    assert result.answer is not None
    print(result.answer.text)

    assert (result.status, result.output) == ("ok", "Order 7 has shipped.")
    answer = result.answer
    assert (answer.text, answer.tool_calls, answer.usage) == (
        "Order 7 has shipped.",
        1,
        Usage(input_tokens=30, output_tokens=7),
    )
    assert isinstance(answer.messages[0], SystemMessage)
    assert answer.messages[1:] == (
        UserMessage(content="Order 7?"),
        AssistantMessage(tool_calls=(ToolCall(id="c1", name="order_status", arguments='{"order_id": 7}'),)),
        ToolMessage(tool_call_id="c1", content='{"order_id": 7, "status": "shipped"}', name="order_status"),
        AssistantMessage(content="Order 7 has shipped."),
    )
    assert answer.new_messages == answer.messages[2:]
    # The agent's own tool comes first, the extra one after it.
    assert [t.name for t in model.requests[0].tools] == ["execute_sql", "order_status"]


def test_the_run_id_and_the_caller_reach_the_tools(project: Path) -> None:
    seen: list[tuple[str, Caller]] = []

    async def whoami(ctx: ExecutionContext) -> str:
        """Say who is asking."""
        seen.append((ctx.run_id, ctx.caller))
        return f"{ctx.caller.tenant}/{ctx.caller.user}/{ctx.caller.thread_id}"

    model = ScriptedModel([Reply(tool_calls=[tool_call("whoami", {})]), Reply(text="Done.")])
    runtime = Runtime.for_project(load_project(project), models={"smollm2": model}, tools=[whoami])
    sink = ListSink()
    caller = Caller(tenant="acme", user="ada", thread_id="t-1")

    async def main() -> object:
        try:
            return await run_file(
                project / "agents/analyst.agent.yml", runtime=runtime, prompt="Who?", sink=sink, caller=caller
            )
        finally:
            await runtime.aclose()

    result = anyio.run(main)
    started = next(e for e in sink.events if isinstance(e, RunStarted))
    assert seen == [(started.run_id, caller)]
    assert result.run_id == started.run_id  # pyright: ignore[reportAttributeAccessIssue]
    results = [e.content for e in sink.events if isinstance(e, ToolResultEvent)]
    assert results == ["acme/ada/t-1"]


def test_a_failed_agent_run_has_no_answer(project: Path) -> None:
    model = ScriptedModel([Reply(tool_calls=[tool_call("execute_sql", {"sql": "select 1"})])] * 5)
    runtime = Runtime.for_project(load_project(project), models={"smollm2": model})
    result = anyio.run(lambda: run_file(project / "agents/analyst.agent.yml", runtime=runtime, prompt="Loop"))
    assert (result.status, result.answer, type(result.error).__name__) == ("error", None, "LimitExceeded")
