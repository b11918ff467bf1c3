"""`type: agent` and `type: workflow` tools of a default agent: the real stack, the scripted HTTP model."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from oxy.application.runner import run_file
from oxy.application.runtime import Runtime
from oxy.application.toolsets import agent_toolsets
from oxy.application.wiring import ProjectDelegates, pick_output
from oxy.config import load_project
from oxy.config.workflow import WorkflowConfig
from oxy.databases.table import TableOutput
from oxy.errors import ToolError
from oxy.events.sinks import ListSink
from oxy.events.types import Event, SqlEvent, StepStarted, TextDelta, ToolResultEvent
from oxy.execution.context import ExecutionContext
from oxy.execution.run import RunResult
from oxy.models import ToolDefinition, ToolMessage
from oxy.testing import Reply, ScriptedModelServer, tool_call
from oxy.tools.workflow_tool import WorkflowAsTool, output_text

pytestmark = pytest.mark.anyio


def files(base_url: str) -> dict[str, str]:
    return {
        "config.yml": f"""
            models:
              - name: scripted
                vendor: vllm
                model_ref: scripted
                api_url: {base_url}
                max_retries: 0
            databases:
              - name: local
                type: duckdb
                dataset: data/
            """,
        "data/fruit.csv": "name,sales\napple,325\nbanana,2000\n",
        "agents/analyst.agent.yml": """
            description: Answers questions about fruit sales with SQL.
            model: scripted
            max_tool_calls: 1
            system_instructions: You are a fruit analyst.
            tools:
              - name: execute_sql
                type: execute_sql
                database: local
            """,
        "agents/manager.agent.yml": """
            model: scripted
            system_instructions: You delegate.
            tools:
              - name: ask_analyst
                type: agent
                agent_ref: agents/analyst.agent.yml
              - name: report
                type: workflow
                workflow_ref: workflows/report.workflow.yml
                description: Build the sales report for one fruit.
                variables:
                  fruit: {type: string, description: The fruit.}
            """,
        "workflows/report.workflow.yml": """
            description: The fruit report.
            variables:
              fruit: {type: string}
            tasks:
              - name: sales
                type: execute_sql
                database: local
                sql_query: "SELECT sales FROM fruit WHERE name = '{{ fruit }}'"
            """,
    }


@pytest.fixture
def server() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer() as server:
        yield server


@pytest.fixture
def project(tmp_path: Path, server: ScriptedModelServer) -> Path:
    for name, text in files(server.base_url).items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    return tmp_path


async def ask(
    project: Path, prompt: str, *, streams_text: bool = False
) -> tuple[RunResult[Any], list[Event]]:
    runtime = Runtime.for_project(load_project(project))
    sink = ListSink(streams_text=streams_text)
    try:
        result = await run_file(
            project / "agents/manager.agent.yml", runtime=runtime, prompt=prompt, sink=sink
        )
    finally:
        runtime.close()
    return result, sink.events


def test_tools_take_their_description_and_parameters_from_config_or_target(project: Path) -> None:
    runtime = Runtime.for_project(load_project(project))
    config = runtime.project.agent("agents/manager.agent.yml")
    assert config.type == "default"
    toolsets = agent_toolsets(
        config.tools, runtime=runtime, file="agents/manager.agent.yml", delegates=ProjectDelegates(runtime)
    )
    definitions = [
        d for toolset in toolsets for d in anyio.run(toolset.get_tools, ExecutionContext(run_id="t"))
    ]
    assert definitions == [
        ToolDefinition(
            name="ask_analyst",
            description="Answers questions about fruit sales with SQL.",
            parameters={
                "additionalProperties": False,
                "properties": {
                    "prompt": {
                        "description": "The question or task for the agent, in full: it sees nothing else.",
                        "type": "string",
                    }
                },
                "required": ["prompt"],
                "type": "object",
            },
        ),
        ToolDefinition(
            name="report",
            description="Build the sales report for one fruit.",
            parameters={
                "type": "object",
                "properties": {"fruit": {"type": "string", "description": "The fruit."}},
                "required": ["fruit"],
                "additionalProperties": False,
            },
        ),
    ]


async def test_an_agent_tool_runs_the_agent_as_a_nested_step(
    project: Path, server: ScriptedModelServer
) -> None:
    server.set_script(
        [
            Reply(tool_calls=[tool_call("ask_analyst", {"prompt": "Banana sales?"}, id="m1")]),
            Reply(
                tool_calls=[
                    tool_call("execute_sql", {"sql": "select sales from fruit where name = 'banana'"})
                ]
            ),
            Reply(text="2000 bananas."),
            Reply(text="The analyst says 2000 bananas."),
        ]
    )
    result, events = await ask(project, "How are bananas doing?", streams_text=True)
    assert (result.status, result.output) == ("ok", "The analyst says 2000 bananas.")
    # The run is read as it goes, so the manager streams; the analyst answers the manager, whole.
    assert [r.stream for r in server.requests] == [True, False, False, True]
    steps = [(e.source, e.name) for e in events if isinstance(e, StepStarted)]
    assert steps == [(("manager",), "manager"), (("manager", "ask_analyst", "analyst"), "analyst")]
    assert [e.source for e in events if isinstance(e, SqlEvent)] == [
        ("manager", "ask_analyst", "analyst", "execute_sql")
    ]
    texts = {e.source for e in events if isinstance(e, TextDelta)}
    assert texts == {("manager",), ("manager", "ask_analyst", "analyst")}
    last = server.requests[-1].messages[-1]
    assert isinstance(last, ToolMessage) and last.content == "2000 bananas."


async def test_a_failing_nested_agent_is_a_tool_error_for_the_outer_model(
    project: Path, server: ScriptedModelServer
) -> None:
    calls = [tool_call("execute_sql", {"sql": "select 1"}), tool_call("execute_sql", {"sql": "select 2"})]
    server.set_script(
        [
            Reply(tool_calls=[tool_call("ask_analyst", {"prompt": "Go"}, id="m1")]),
            Reply(tool_calls=calls),  # more than the analyst's max_tool_calls: 1
            Reply(text="The analyst gave up."),
        ]
    )
    result, events = await ask(project, "Go")
    assert result.output == "The analyst gave up."
    failed = next(e for e in events if isinstance(e, ToolResultEvent) and e.name == "ask_analyst")
    assert failed.is_error and failed.content.startswith("Error: Agent 'analyst' stopped")


async def test_workflow_tool_checks_arguments_and_returns_the_output_as_text() -> None:
    received: list[dict[str, Any]] = []

    async def run(ctx: ExecutionContext, variables: dict[str, Any]) -> Any:
        received.append(variables)
        return TableOutput(columns=("sales",), rows=((2000,),))

    tool = WorkflowAsTool(
        name="report",
        description="d",
        variables={"fruit": {"type": "string"}, "top": {"type": "integer", "default": 3}},
        run=run,
    )
    ctx = ExecutionContext(run_id="r")
    assert await tool.call(ctx, json.dumps({"fruit": "banana"})) == "| sales |\n| --- |\n| 2000 |"
    assert received == [{"fruit": "banana"}]
    assert tool.parameters()["required"] == ["fruit"]
    with pytest.raises(ToolError, match=r"Missing argument\(s\): 'fruit'"):
        await tool.call(ctx, "{}")
    with pytest.raises(ToolError, match=r"Unknown argument\(s\) 'colour'; the arguments are: fruit, top"):
        await tool.call(ctx, '{"fruit": "kiwi", "colour": "green"}')
    with pytest.raises(ToolError, match="must be a JSON object"):
        await tool.call(ctx, "[1]")


def test_output_text_and_pick_output() -> None:
    config = WorkflowConfig.model_validate(
        {
            "tasks": [
                {"name": "a", "type": "formatter", "template": "x"},
                {"name": "b", "type": "formatter", "template": "y"},
            ]
        }
    )
    outputs = {"a": "first", "b": {"n": 1}}
    assert pick_output(outputs, config, output_task=None, file="w.workflow.yml") == {"n": 1}
    assert pick_output(outputs, config, output_task="a", file="w.workflow.yml") == "first"
    with pytest.raises(ToolError, match="output_task_ref 'c' is not a task that ran; tasks: 'a', 'b'"):
        pick_output(outputs, config, output_task="c", file="w.workflow.yml")
    assert output_text({"n": 1}, max_rows=5) == '{"n": 1}'
    assert output_text(["x", TableOutput(columns=("a",), rows=())], max_rows=5) == (
        "x\n\nThe query returned no rows. Columns: a"
    )


async def test_a_workflow_tool_runs_the_workflow_as_a_nested_step(
    project: Path, server: ScriptedModelServer
) -> None:
    server.set_script(
        [
            Reply(tool_calls=[tool_call("report", {"fruit": "apple"}, id="m1")]),
            Reply(text="Apples: 325."),
        ]
    )
    result, events = await ask(project, "Apple report?")
    assert (result.status, result.output) == ("ok", "Apples: 325.")
    steps = [(e.source, e.step_type) for e in events if isinstance(e, StepStarted)]
    assert steps[:2] == [(("manager",), "agent"), (("manager", "report", "report"), "workflow")]
    sql = next(e for e in events if isinstance(e, SqlEvent))
    assert sql.sql == "SELECT sales FROM fruit WHERE name = 'apple'"
    assert sql.source[:3] == ("manager", "report", "report")
    result_event = next(e for e in events if isinstance(e, ToolResultEvent))
    assert (result_event.content, result_event.is_error) == ("| sales |\n| --- |\n| 325 |", False)


async def test_a_workflow_tool_with_a_bad_argument_is_a_tool_error(
    project: Path, server: ScriptedModelServer
) -> None:
    server.set_script(
        [
            Reply(tool_calls=[tool_call("report", {"colour": "red"}, id="m1")]),
            Reply(text="Sorry."),
        ]
    )
    result, events = await ask(project, "Report?")
    assert result.output == "Sorry."
    failed = next(e for e in events if isinstance(e, ToolResultEvent))
    assert (failed.content, failed.is_error) == (
        "Error: Unknown argument(s) 'colour'; the arguments are: fruit.",
        True,
    )
