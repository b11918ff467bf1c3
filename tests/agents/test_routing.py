"""Routing agents end to end: the real stack against the scripted HTTP model server and DuckDB."""

from __future__ import annotations

import logging
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from oxy.agents.routing import RoutingAgent
from oxy.application.runner import run_file
from oxy.application.runtime import Runtime
from oxy.application.wiring import build_agent
from oxy.config import load_project
from oxy.errors import DatabaseError
from oxy.events.sinks import ListSink
from oxy.events.types import (
    Event,
    SqlEvent,
    StepStarted,
    TextDelta,
    ToolCallEvent,
    ToolResultEvent,
)
from oxy.execution.run import RunResult
from oxy.models import ToolMessage
from oxy.testing import Reply, ScriptedModelServer, Turn, tool_call

pytestmark = pytest.mark.anyio

FILES = {
    "data/fruit.csv": "name,sales\napple,325\nbanana,2000\n",
    "agents/analyst.agent.yml": """
        description: Answers questions about fruit sales with SQL.
        model: scripted
        system_instructions: You are a fruit analyst.
        tools:
          - name: execute_sql
            type: execute_sql
            database: local
        """,
    "agents/fallback.agent.yml": """
        description: Answers anything else.
        model: scripted
        system_instructions: You answer general questions.
        """,
    "agents/router.agent.yml": """
        type: routing
        model: scripted
        routes:
          - agents/analyst.agent.yml
          - queries/*.sql
          - semantics/*.topic.yml
          - omni::Hire
        route_fallback: agents/fallback.agent.yml
        """,
    "queries/fruit_sales.sql": """
        /*
          oxy:
            database: local
            embed:
              - fruit sales
              - sales by fruit
        */
        SELECT name, sales FROM fruit ORDER BY sales DESC
        """,
    "queries/kiwi-report.sql": """
        -- Kiwi sales (the table has no kiwi column: this query fails)
        SELECT kiwi FROM fruit
        """,
    "semantics/fruit.topic.yml": "name: fruit\n",
}


def write_project(root: Path, base_url: str, files: dict[str, str]) -> Path:
    config = f"""
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
        """
    for name, text in {"config.yml": config, **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    return root


@pytest.fixture
def server() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer() as server:
        yield server


@pytest.fixture
def project(tmp_path: Path, server: ScriptedModelServer) -> Path:
    return write_project(tmp_path, server.base_url, FILES)


async def ask(project: Path, agent: str, prompt: str) -> tuple[RunResult[Any], list[Event]]:
    runtime = Runtime.for_project(load_project(project))
    sink = ListSink()
    try:
        result = await run_file(project / agent, runtime=runtime, prompt=prompt, sink=sink)
    finally:
        runtime.close()
    return result, sink.events


def text_by_source(events: list[Event]) -> dict[tuple[str, ...], str]:
    out: dict[tuple[str, ...], str] = {}
    for event in events:
        if isinstance(event, TextDelta):
            out[event.source] = out.get(event.source, "") + event.text
    return out


def script(server: ScriptedModelServer, *turns: Turn) -> None:
    server.set_script(list(turns))


async def test_routes_become_tools_named_after_files_and_skipped_routes_are_logged(
    project: Path, server: ScriptedModelServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="oxy.agents.routing"):
        runtime = Runtime.for_project(load_project(project))
        config = runtime.project.agent("agents/router.agent.yml")
        assert config.type == "routing"
        agent = build_agent("agents/router.agent.yml", runtime=runtime)
        assert isinstance(agent, RoutingAgent)
    definitions = {t.name: (t.description, dict(t.parameters())) for t in agent.tools}
    assert list(definitions) == ["analyst", "fruit_sales", "kiwi_report"]
    assert definitions["analyst"][0] == "Answers questions about fruit sales with SQL."
    assert definitions["analyst"][1]["required"] == ["prompt"]
    assert definitions["fruit_sales"] == (
        "Run the saved query fruit_sales.sql; it answers: fruit sales; sales by fruit.",
        {"additionalProperties": False, "properties": {}, "type": "object"},
    )
    assert definitions["kiwi_report"][0] == (
        "Run the saved query kiwi-report.sql: Kiwi sales (the table has no kiwi column: this query fails)"
    )
    assert [str(s) for s in agent.skipped] == [
        "route 'semantics/fruit.topic.yml' skipped: semantic-layer topics and views do not run in oxy yet",
        "route 'omni::Hire' skipped: integration routes (Omni, Looker) do not run in oxy yet",
    ]
    assert [r.getMessage() for r in caplog.records] == [
        f"agents/router.agent.yml: {s}" for s in agent.skipped
    ]


async def test_picks_an_agent_route_and_synthesises_the_answer(
    project: Path, server: ScriptedModelServer
) -> None:
    script(
        server,
        Reply(
            text="Asking the analyst.", tool_calls=[tool_call("analyst", {"prompt": "Total sales?"}, id="r1")]
        ),
        Reply(
            tool_calls=[tool_call("execute_sql", {"sql": "select sum(sales) as total from fruit"}, id="a1")]
        ),
        Reply(text="2325 in total."),
        Reply(text="Fruit sales total 2325."),
    )
    result, events = await ask(project, "agents/router.agent.yml", "How much fruit did we sell?")
    assert (result.status, result.output) == ("ok", "Fruit sales total 2325.")
    assert text_by_source(events) == {
        ("router",): "Asking the analyst.Fruit sales total 2325.",
        ("router", "analyst", "analyst"): "2325 in total.",
    }
    steps = [(e.source, e.step_type) for e in events if isinstance(e, StepStarted)]
    assert steps == [(("router",), "agent"), (("router", "analyst", "analyst"), "agent")]
    sql = [e for e in events if isinstance(e, SqlEvent)]
    assert [(e.source, e.sql) for e in sql] == [
        (("router", "analyst", "analyst", "execute_sql"), "select sum(sales) as total from fruit")
    ]
    calls = [(e.source, e.name) for e in events if isinstance(e, ToolCallEvent)]
    assert calls == [(("router",), "analyst"), (("router", "analyst", "analyst"), "execute_sql")]

    route, inner, _, synthesis = server.requests
    assert [t.name for t in route.tools] == ["analyst", "fruit_sales", "kiwi_report"]
    assert route.body is not None and route.body["tool_choice"] == "auto"
    assert inner.messages[-1].content == "Total sales?"  # the nested agent sees only its prompt
    assert synthesis.tools == ()
    assert [m.content for m in synthesis.messages if isinstance(m, ToolMessage)] == ["2325 in total."]


async def test_sql_route_without_synthesis_returns_the_table(
    project: Path, server: ScriptedModelServer
) -> None:
    router = project / "agents/router.agent.yml"
    router.write_text(router.read_text() + "synthesize_results: false\n")
    script(server, Reply(tool_calls=[tool_call("fruit_sales", {}, id="r1")]))
    result, events = await ask(project, "agents/router.agent.yml", "Sales by fruit?")
    table = "| name | sales |\n| --- | --- |\n| banana | 2000 |\n| apple | 325 |"
    assert (result.status, result.output) == ("ok", table)
    assert len(server.requests) == 1
    sql = next(e for e in events if isinstance(e, SqlEvent))
    assert sql.source == ("router", "fruit_sales")
    assert text_by_source(events) == {}


async def test_no_route_fits_so_the_fallback_answers(project: Path, server: ScriptedModelServer) -> None:
    script(server, Reply(text="None of my routes fit."), Reply(text="Paris is the capital of France."))
    result, events = await ask(project, "agents/router.agent.yml", "Capital of France?")
    assert (result.status, result.output) == ("ok", "Paris is the capital of France.")
    # The router's own words are held back: the fallback answers instead.
    assert text_by_source(events) == {("router", "fallback"): "Paris is the capital of France."}
    assert server.requests[1].messages[-1].content == "Capital of France?"


async def test_a_failing_route_goes_to_the_fallback(project: Path, server: ScriptedModelServer) -> None:
    script(server, Reply(tool_calls=[tool_call("kiwi_report", {}, id="r1")]), Reply(text="No kiwi data."))
    result, events = await ask(project, "agents/router.agent.yml", "Kiwi sales?")
    assert (result.status, result.output) == ("ok", "No kiwi data.")
    failed = next(e for e in events if isinstance(e, ToolResultEvent))
    assert failed.is_error and 'Referenced column "kiwi" not found' in failed.content
    assert len(server.requests) == 2


async def test_without_a_fallback_the_model_explains_a_failed_route(
    project: Path, server: ScriptedModelServer
) -> None:
    router = project / "agents/router.agent.yml"
    router.write_text(router.read_text().replace("route_fallback: agents/fallback.agent.yml\n", ""))
    script(
        server, Reply(tool_calls=[tool_call("kiwi_report", {}, id="r1")]), Reply(text="That query failed.")
    )
    result, _ = await ask(project, "agents/router.agent.yml", "Kiwi sales?")
    assert (result.status, result.output) == ("ok", "That query failed.")
    error = server.requests[1].messages[-1]
    assert isinstance(error, ToolMessage) and error.content.startswith("Error: local (duckdb): ")

    # No route at all and no fallback: the model's words are the answer.
    script(server, Reply(text="I can only answer fruit questions."))
    result, events = await ask(project, "agents/router.agent.yml", "Capital of France?")
    assert result.output == "I can only answer fruit questions."
    assert text_by_source(events) == {("router",): "I can only answer fruit questions."}


async def test_without_fallback_or_synthesis_a_failed_route_fails_the_run(
    project: Path, server: ScriptedModelServer
) -> None:
    router = project / "agents/router.agent.yml"
    text = router.read_text().replace("route_fallback: agents/fallback.agent.yml\n", "")
    router.write_text(text + "synthesize_results: false\n")
    script(server, Reply(tool_calls=[tool_call("kiwi_report", {}, id="r1")]))
    result, _ = await ask(project, "agents/router.agent.yml", "Kiwi sales?")
    assert result.status == "error" and isinstance(result.error, DatabaseError)


async def test_an_unknown_route_name_is_a_failed_route(project: Path, server: ScriptedModelServer) -> None:
    script(server, Reply(tool_calls=[tool_call("weather", {}, id="r1")]), Reply(text="Fallback here."))
    result, events = await ask(project, "agents/router.agent.yml", "Weather?")
    assert result.output == "Fallback here."
    failed = next(e for e in events if isinstance(e, ToolResultEvent))
    assert failed.content == (
        "Error: there is no route named 'weather'; the routes are: analyst, fruit_sales, kiwi_report."
    )


WORKFLOW = """
    description: The sales of one fruit.
    variables:
      fruit: {type: string, description: A fruit name, lower case.}
    tasks:
      - name: sales
        type: execute_sql
        database: local
        sql_query: "SELECT sales FROM fruit WHERE name = '{{ fruit }}'"
      - name: answer
        type: formatter
        template: "{{ fruit }} sales: {{ sales.sales[0] }}"
    """


async def test_picks_a_workflow_route(tmp_path: Path, server: ScriptedModelServer) -> None:
    files = {**FILES, "workflows/fruit_sales.workflow.yml": WORKFLOW}
    files["agents/router.agent.yml"] = (
        "type: routing\nmodel: scripted\nroutes: ['workflows/*.workflow.yml']\n"
    )
    project = write_project(tmp_path, server.base_url, files)
    script(
        server,
        Reply(tool_calls=[tool_call("fruit_sales", {"fruit": "banana"}, id="r1")]),
        Reply(text="Bananas sold 2000."),
    )
    result, events = await ask(project, "agents/router.agent.yml", "Banana sales?")
    assert (result.status, result.output) == ("ok", "Bananas sold 2000.")
    tool = server.requests[0].tools[0]
    assert (tool.name, tool.description) == ("fruit_sales", "The sales of one fruit.")
    assert tool.parameters["required"] == ["fruit"]
    routed = next(e for e in events if isinstance(e, ToolResultEvent))
    assert routed.content == "banana sales: 2000"  # the last task's output
    workflow_step = next(e for e in events if isinstance(e, StepStarted) and e.step_type == "workflow")
    assert workflow_step.source == ("router", "fruit_sales", "fruit_sales")


async def test_a_workflow_fallback_gets_the_question(tmp_path: Path, server: ScriptedModelServer) -> None:
    echo = """
        variables:
          question: {type: string}
        tasks:
          - name: reply
            type: formatter
            template: "Nobody here knows about {{ question }}"
        """
    files = {**FILES, "workflows/echo.workflow.yml": echo}
    files["agents/router.agent.yml"] = (
        "type: routing\nmodel: scripted\nroutes: ['queries/*.sql']\nroute_fallback: workflows/echo.workflow.yml\n"
    )
    project = write_project(tmp_path, server.base_url, files)
    script(server, Reply(text="No route."))
    result, _ = await ask(project, "agents/router.agent.yml", "kiwis")
    assert (result.status, result.output) == ("ok", "Nobody here knows about kiwis")
