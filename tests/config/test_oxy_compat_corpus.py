"""Every file of Oxy's own example projects loads and validates with no error."""

from __future__ import annotations

from pathlib import Path

import pytest

from oxy.config import (
    DefaultAgentConfig,
    RoutingAgentConfig,
    load_agent,
    load_agent_test,
    load_project,
    load_workflow,
    parse_sql_file,
    validate,
)
from oxy.errors import ConfigError


def test_examples_validate_with_no_error(oxy_compat: Path) -> None:
    report = validate(oxy_compat / "examples")

    assert report.errors == ()
    assert len(report.checked) == 26
    # The references in Oxy's examples that do not resolve; each is a warning (see oxy/config/refs.py).
    assert [str(w) for w in report.warnings] == [
        "agents/_routing.agent.yml:16:5: route 'semantics/topics/users.topic.yml' matches no file "
        "(globs are relative to the project root)",
        "config.yml:26:11: database 'duckdb_persistent': no database file at 'db.duckdb' (paths are relative to "
        "the project root); oxy opens it read-only, so it must exist before a run uses it",
        "config.yml:142:10: defaults.agent 'default.agent.yml' not found (paths are relative to the project root)"
        " — did you mean 'agents/default.agent.yml'?",
        "procedures/consistency.procedure.yml:9:15: sql_file 'data/example_anonymize.sql' not found "
        "(paths are relative to the project root)",
        "testing/sales.agent.test.yml:7:9: target 'agents/sales.agent.yml' not found "
        "(paths are relative to the project root)",
        "testing/sales.agent.test.yml:12:16: Model 'gpt-5-mini' not found in config.yml; known: openai-4o-mini, "
        "gpt-5-mini-2025-08-07, openai-4o, openai-5.2, openai-4.1, openai-4o-with-headers, llama3.2, "
        "gemini1.5pro, claude-3-7-sonnet, claude-sonnet-4-6, claude-haiku-4-5 — did you mean "
        "'gpt-5-mini-2025-08-07'?",
    ]
    assert sorted({s.path.rsplit(".", 2)[-2] for s in report.skipped}) == [
        "app",
        "schema",
        "test",
        "topic",
        "view",
    ]


def test_demo_project_validates_cleanly(oxy_compat: Path) -> None:
    report = validate(oxy_compat / "demo_project")

    assert (report.errors, report.warnings) == ((), ())
    assert report.checked == (
        "config.yml",
        "default.agent.yml",
        "example_sql/avg_weekly_sales_by_store.sql",
        "example_sql/total_number_of_store.sql",
        "example_sql/weather_correlation_sale.sql",
    )
    assert report.skipped[0].path == "analytics.agentic.yml"
    assert report.summary() == "5 files checked, 0 errors, 9 skipped"


def _files(root: Path, *suffixes: str) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for s in suffixes for p in root.rglob(f"*{s}"))


@pytest.mark.parametrize("project_dir", ["examples", "demo_project"])
def test_every_agent_and_workflow_loads(oxy_compat: Path, project_dir: str) -> None:
    project = load_project(oxy_compat / project_dir)

    for file in _files(project.root, ".agent.yml"):
        agent = project.agent(file)
        assert isinstance(agent, DefaultAgentConfig | RoutingAgentConfig)
        assert agent.name
    for file in _files(project.root, ".workflow.yml", ".procedure.yml", ".automation.yml"):
        assert load_workflow(file, project).tasks


def test_corpus_values_survive_loading(oxy_compat: Path) -> None:
    project = load_project(oxy_compat / "examples")

    routing = load_agent("agents/_routing.agent.yml", project)
    assert isinstance(routing, RoutingAgentConfig)
    assert (routing.name, routing.model, routing.route_fallback) == (
        "_routing",
        "openai-5.2",
        "agents/default.agent.yml",
    )
    duckdb = project.agent("agents/duckdb.agent.yml")
    assert isinstance(duckdb, DefaultAgentConfig)
    assert (duckdb.name, [t.name for t in duckdb.tools]) == ("duckdb", ["execute_sql", "generate_chart"])
    assert (duckdb.max_tool_calls, duckdb.max_tool_concurrency, duckdb.tool_choice) == (10, 4, "auto")
    loop = project.workflow("procedures/fruit_loop_report.procedure.yml")
    assert loop.name == "fruit_loop_report"
    assert [t.type for t in loop.tasks] == ["loop_sequential", "formatter"]
    sales = parse_sql_file(project.path("data_fruit/example_sales.sql"))
    assert sales.database == "local"
    assert sales.sql.startswith("select 'apple' as name")


def test_agent_test_with_missing_target_cannot_load(oxy_compat: Path) -> None:
    project = load_project(oxy_compat / "examples")

    with pytest.raises(ConfigError) as caught:
        load_agent_test("testing/sales.agent.test.yml", project)

    assert str(caught.value) == (
        "testing/sales.agent.test.yml:7:9: target 'agents/sales.agent.yml' not found "
        "(paths are relative to the project root)"
    )
