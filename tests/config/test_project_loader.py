"""find_project_root, load_project and the Project's lookups."""

from __future__ import annotations

from pathlib import Path

import pytest

from oxy.config import (
    ConfigErrors,
    DefaultAgentConfig,
    find_project_root,
    load_agent,
    load_project,
    load_workflow,
)
from oxy.errors import ConfigError

CONFIG = """\
models:
  - name: small
    vendor: openai
    model_ref: gpt-4o-mini
  - name: local
    vendor: vllm
    model_ref: qwen
    api_url: http://localhost:8000/v1
databases:
  - name: local
    type: duckdb
    dataset: data/
  - name: warehouse
    type: sqlite
    path: w.db
defaults:
  database: warehouse
"""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "config.yml").write_text(CONFIG)
    (tmp_path / "agents").mkdir()
    (tmp_path / "agents" / "ask.agent.yml").write_text(
        "model: small\nsystem_instructions: Be brief.\ntools:\n  - type: execute_sql\n    database: local\n"
    )
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "report.workflow.yml").write_text(
        "tasks:\n  - name: q\n    type: execute_sql\n    database: local\n    sql_query: select 1\n"
    )
    return tmp_path


def test_find_project_root_walks_up(root: Path) -> None:
    assert find_project_root(root / "agents") == root.resolve()
    assert find_project_root(root / "agents" / "ask.agent.yml") == root.resolve()
    assert find_project_root(root) == root.resolve()


def test_find_project_root_without_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        find_project_root(tmp_path)

    assert str(caught.value) == (
        f"no config.yml found in {tmp_path.resolve()} or any folder above it; "
        "run `oxy make` to create a project, or pass --project DIR"
    )


def test_load_project_and_lookups(root: Path) -> None:
    project = load_project(root)

    assert project.root == root.resolve()
    assert project.config.model_names == ["small", "local"]
    assert project.database().name == "warehouse"
    assert project.database("local").type == "duckdb"
    assert project.model("local").vendor == "vllm"
    with pytest.raises(ConfigError) as caught:
        project.database("warehose")
    assert str(caught.value) == (
        "config.yml: Database 'warehose' not found in config.yml; known: local, warehouse — did you mean 'warehouse'?"
    )
    with pytest.raises(
        ConfigError, match=r"^config.yml: Model 'big' not found in config.yml; known: small, local$"
    ):
        project.model("big")


def test_agents_and_workflows_load_once_by_relative_path(root: Path) -> None:
    project = load_project(root)

    agent = project.agent("agents/ask.agent.yml")

    assert isinstance(agent, DefaultAgentConfig)
    assert (agent.name, agent.tools[0].name, agent.max_tool_concurrency) == ("ask", "execute_sql", 4)
    assert project.agent(root / "agents" / "ask.agent.yml") is agent
    assert project.workflow("flows/report.workflow.yml").name == "report"
    assert project.relative(root / "flows") == "flows"


def test_load_only_reads_the_file_asked_for(root: Path) -> None:
    (root / "agents" / "broken.agent.yml").write_text("model: [\n")
    project = load_project(root)

    assert load_agent("agents/ask.agent.yml", project).model == "small"
    with pytest.raises(ConfigError, match=r"^agents/broken.agent.yml:2:1: invalid YAML"):
        load_agent("agents/broken.agent.yml", project)


def test_missing_and_empty_files(root: Path) -> None:
    project = load_project(root)
    (root / "flows" / "empty.workflow.yml").write_text("# nothing yet\n")

    with pytest.raises(ConfigError, match=r"^flows/nope.workflow.yml: file not found$"):
        load_workflow("flows/nope.workflow.yml", project)
    with pytest.raises(ConfigError) as caught:
        load_workflow("flows/empty.workflow.yml", project)
    assert (
        str(caught.value)
        == "flows/empty.workflow.yml:1: the file is empty; a workflow file needs at least 'tasks'"
    )


def test_load_project_checks_defaults(root: Path) -> None:
    (root / "config.yml").write_text(CONFIG.replace("database: warehouse", "database: lake"))

    with pytest.raises(ConfigErrors) as caught:
        load_project(root)

    assert str(caught.value) == (
        "config.yml:17:13: Database 'lake' not found in config.yml; known: local, warehouse"
    )


def test_load_project_without_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no config.yml in .*; run `oxy make` to create a project there"):
        load_project(tmp_path)


def test_empty_config_is_an_empty_project(tmp_path: Path) -> None:
    (tmp_path / "config.yml").write_text("")

    assert load_project(tmp_path).config.databases == []


def test_glob_lists_project_files(root: Path) -> None:
    (root / ".hidden").mkdir()
    (root / ".hidden" / "x.agent.yml").write_text("model: small\n")
    project = load_project(root)

    assert project.glob("**/*.agent.yml") == ["agents/ask.agent.yml"]
    assert project.glob("./flows/*.yml") == ["flows/report.workflow.yml"]
    assert project.glob("nothing/*.sql") == []
