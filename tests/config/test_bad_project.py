"""tests/fixtures/bad_project holds one mistake of each kind; every message and location is pinned here."""

from __future__ import annotations

from pathlib import Path

import pytest

from oxy.config import ConfigErrors, Project, ProjectConfig, load_agent, load_project, load_workflow, validate
from oxy.errors import ConfigError

BAD = Path(__file__).resolve().parents[1] / "fixtures" / "bad_project"

ERRORS = [
    "agents/duplicate_key.agent.yml:3:1: duplicate key 'model' (first written at line 1); keep one",
    "agents/missing_context.agent.yml:7:9: context src 'queries/*.sqll' matches no file "
    "(globs are relative to the project root)",
    "agents/routing.agent.yml:1:7: unknown agent type 'routng' — did you mean 'routing'?",
    "agents/sql.agent.yml:12:1: unknown key 'max_tool_call' — did you mean 'max_tool_calls'?",
    "agents/unknown_names.agent.yml:1:8: Model 'gpt-4' not found in config.yml; known: small",
    "agents/unknown_names.agent.yml:5:15: Database 'warehose' not found in config.yml; known: local, warehouse"
    " — did you mean 'warehouse'?",
    "agents/unknown_tool.agent.yml:4:11: unknown tool type 'execute_sq' — did you mean 'execute_sql'?",
    "agents/wrong_types.agent.yml:3:17: 'max_tool_calls' must be an integer; got 'ten'",
    "agents/wrong_types.agent.yml:4:14: 'tool_choice' must be one of auto, required, none, required_first; "
    "got 'requird' — did you mean 'required'?",
    "config.yml:7:11: duplicate model name 'small' (first at line 3); model names must be unique",
    "config.yml:16:11: unknown database type 'duckbd' — did you mean 'duckdb'?",
    "config.yml:18:11: duplicate database name 'local' (first at line 12); database names must be unique",
    "config.yml:21:1: unknown key 'default' — did you mean 'defaults'?",
    "queries/unknown_database.sql:3:15: Database 'nowhere' not found in config.yml; known: local, warehouse",
    "workflows/broken.workflow.yml:5:1: invalid YAML: did not find expected ',' or ']' "
    "(while parsing a flow sequence at line 4)",
    "workflows/missing_key.workflow.yml:2:5: missing required key 'prompt'",
    "workflows/missing_refs.procedure.yml:4:16: agent_ref 'agent/sql.agent.yml' not found "
    "(paths are relative to the project root) — did you mean 'agents/sql.agent.yml'?",
    "workflows/missing_refs.procedure.yml:8:10: src 'workflows/nope.workflow.yml' not found "
    "(paths are relative to the project root)",
    "workflows/missing_refs.procedure.yml:13:11: duplicate task name 'ask' (first at line 2); "
    "task names must be unique",
    "workflows/unknown_task.workflow.yml:3:11: unknown task type 'execute_sq' — did you mean 'execute_sql'?",
]

WARNINGS = [
    "evals/sales.agent.test.yml:1:9: target 'agents/sales.agent.yml' not found "
    "(paths are relative to the project root)",
    "workflows/missing_refs.procedure.yml:12:15: sql_file 'queries/nope.sql' not found "
    "(paths are relative to the project root)",
]


def test_validate_reports_every_error_with_its_location() -> None:
    report = validate(BAD)

    assert [str(e) for e in report.errors] == ERRORS
    assert [str(w) for w in report.warnings] == WARNINGS
    assert [(s.path, s.reason) for s in report.skipped] == [
        ("apps/dashboard.app.yml", "data app (*.app.yml): not run by this engine yet")
    ]
    assert report.checked == (
        "config.yml",
        "agents/duplicate_key.agent.yml",
        "agents/missing_context.agent.yml",
        "agents/routing.agent.yml",
        "agents/sql.agent.yml",
        "agents/unknown_names.agent.yml",
        "agents/unknown_tool.agent.yml",
        "agents/wrong_types.agent.yml",
        "evals/sales.agent.test.yml",
        "queries/unknown_database.sql",
        "workflows/broken.workflow.yml",
        "workflows/missing_key.workflow.yml",
        "workflows/missing_refs.procedure.yml",
        "workflows/unknown_task.workflow.yml",
    )
    assert not report.ok
    assert report.summary() == "14 files checked, 20 errors, 2 warnings, 1 skipped"


def test_errors_carry_file_line_column_and_key() -> None:
    report = validate(BAD, [Path("agents/sql.agent.yml")])

    [error] = [e for e in report.errors if e.file != "config.yml"]
    assert (error.file, error.line, error.column, error.key) == (
        "agents/sql.agent.yml",
        12,
        1,
        "max_tool_call",
    )
    assert error.message == "unknown key 'max_tool_call' — did you mean 'max_tool_calls'?"


def test_validate_some_paths_still_reads_config() -> None:
    report = validate(
        BAD, [BAD / "workflows" / "unknown_task.workflow.yml", Path("queries"), Path("config.yml")]
    )

    assert report.checked == (
        "config.yml",
        "workflows/unknown_task.workflow.yml",
        "queries/unknown_database.sql",
    )
    assert [str(e) for e in report.errors] == [
        e for e in ERRORS if e.startswith(("config.yml", "workflows/unknown_task", "queries/"))
    ]


def test_load_project_raises_every_config_error() -> None:
    with pytest.raises(ConfigErrors) as caught:
        load_project(BAD)

    assert [str(e) for e in caught.value.errors] == [e for e in ERRORS if e.startswith("config.yml")]
    assert str(caught.value).splitlines()[0] == "4 errors in project files:"


@pytest.fixture
def project() -> Project:
    """The bad project's files against the config.yml it meant to write."""
    config = ProjectConfig.model_validate(
        {
            "models": [{"name": "small", "vendor": "openai", "model_ref": "gpt-4o-mini"}],
            "databases": [
                {"name": "local", "type": "duckdb", "dataset": "data/"},
                {"name": "warehouse", "type": "duckdb", "path": "warehouse.duckdb"},
            ],
        }
    )
    return Project(root=BAD, config=config)


@pytest.mark.parametrize(
    "file",
    [
        "agents/duplicate_key.agent.yml",
        "agents/missing_context.agent.yml",
        "agents/routing.agent.yml",
        "agents/sql.agent.yml",
        "agents/unknown_names.agent.yml",
        "agents/unknown_tool.agent.yml",
        "agents/wrong_types.agent.yml",
    ],
)
def test_load_agent_raises_the_same_errors(project: Project, file: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_agent(file, project)

    errors = caught.value.errors if isinstance(caught.value, ConfigErrors) else [caught.value]
    assert [str(e) for e in errors] == [e for e in ERRORS if e.startswith(file)]


@pytest.mark.parametrize(
    "file",
    [
        "workflows/broken.workflow.yml",
        "workflows/missing_key.workflow.yml",
        "workflows/missing_refs.procedure.yml",
        "workflows/unknown_task.workflow.yml",
    ],
)
def test_load_workflow_raises_the_same_errors(project: Project, file: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_workflow(file, project)

    errors = caught.value.errors if isinstance(caught.value, ConfigErrors) else [caught.value]
    assert [str(e) for e in errors] == [e for e in ERRORS if e.startswith(file)]
