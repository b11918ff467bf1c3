"""An agent that reaches itself through agent/workflow tools, routes or tasks is a ConfigError at build time."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from oxy.application.cycles import check_no_cycles, references
from oxy.application.runtime import Runtime
from oxy.application.wiring import build_agent
from oxy.cli import cli
from oxy.config import load_project
from oxy.errors import ConfigError

CONFIG = """
models:
  - name: m
    vendor: vllm
    model_ref: m
    api_url: http://127.0.0.1:9/v1
"""


def agent(*refs: str, kind: str = "agent") -> str:
    tools = "".join(
        f"\n  - name: t{i}\n    type: {kind}\n    {kind}_ref: {ref}" for i, ref in enumerate(refs)
    )
    return f"model: m\nsystem_instructions: hi\ntools:{tools or ' []'}\n"


def project(root: Path, files: dict[str, str]) -> Runtime:
    for name, text in {"config.yml": CONFIG, **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return Runtime.for_project(load_project(root))


def cycle_error(runtime: Runtime, file: str) -> str:
    with pytest.raises(ConfigError) as caught:
        build_agent(file, runtime=runtime)
    return str(caught.value)


def test_an_agent_that_asks_itself(tmp_path: Path) -> None:
    runtime = project(tmp_path, {"agents/a.agent.yml": agent("agents/a.agent.yml")})
    assert cycle_error(runtime, "agents/a.agent.yml") == (
        "agents/a.agent.yml: reaches itself through agent/workflow tools, routes or tasks: "
        "agents/a.agent.yml → agents/a.agent.yml; remove one of these references"
    )


def test_two_agents_that_ask_each_other(tmp_path: Path) -> None:
    runtime = project(
        tmp_path,
        {
            "agents/a.agent.yml": agent("agents/b.agent.yml"),
            "agents/b.agent.yml": agent("agents/a.agent.yml"),
        },
    )
    assert "agents/a.agent.yml → agents/b.agent.yml → agents/a.agent.yml;" in cycle_error(
        runtime, "agents/a.agent.yml"
    )
    assert "agents/b.agent.yml → agents/a.agent.yml → agents/b.agent.yml;" in cycle_error(
        runtime, "agents/b.agent.yml"
    )


def test_a_cycle_through_a_workflow_and_a_router(tmp_path: Path) -> None:
    runtime = project(
        tmp_path,
        {
            "agents/a.agent.yml": agent("workflows/w.workflow.yml", kind="workflow"),
            "workflows/w.workflow.yml": """
                tasks:
                  - name: each
                    type: loop_sequential
                    values: [1, 2]
                    tasks:
                      - name: ask
                        type: agent
                        agent_ref: agents/router.agent.yml
                        prompt: go
                """,
            "agents/router.agent.yml": """
                type: routing
                model: m
                routes: ["agents/*.agent.yml"]
                """,
        },
    )
    message = cycle_error(runtime, "agents/router.agent.yml")
    assert message.startswith("agents/router.agent.yml: reaches itself")
    assert (
        "agents/router.agent.yml → agents/a.agent.yml → workflows/w.workflow.yml → agents/router.agent.yml;"
        in message
    )
    # Through the default agent's own tools too, when that agent is built.
    assert (
        "agents/a.agent.yml → workflows/w.workflow.yml → agents/router.agent.yml → agents/a.agent.yml;"
        in cycle_error(runtime, "agents/a.agent.yml")
    )


def test_a_router_whose_glob_matches_itself_is_no_cycle(tmp_path: Path) -> None:
    runtime = project(
        tmp_path,
        {
            "agents/a.agent.yml": agent(),
            "agents/b.agent.yml": agent("agents/a.agent.yml"),
            "agents/router.agent.yml": "type: routing\nmodel: m\nroutes: ['agents/*.agent.yml']\n"
            "route_fallback: agents/b.agent.yml\n",
        },
    )
    check_no_cycles(runtime.project, "agents/router.agent.yml")
    assert references(runtime.project, "agents/router.agent.yml") == [
        "agents/a.agent.yml",
        "agents/b.agent.yml",
    ]
    router = build_agent("agents/router.agent.yml", runtime=runtime)
    assert [tool.name for tool in router.tools] == ["a", "b"]  # pyright: ignore[reportAttributeAccessIssue]


def test_oxy_run_reports_the_cycle_in_one_line(tmp_path: Path) -> None:
    project(
        tmp_path,
        {
            "agents/a.agent.yml": agent("agents/b.agent.yml"),
            "agents/b.agent.yml": agent("agents/a.agent.yml"),
        },
    )
    result = CliRunner().invoke(cli, ["run", str(tmp_path / "agents/a.agent.yml"), "hi"])
    assert result.exit_code == 1
    assert result.stderr == (
        "error: agents/a.agent.yml: reaches itself through agent/workflow tools, routes or tasks: "
        "agents/a.agent.yml → agents/b.agent.yml → agents/a.agent.yml; remove one of these references\n"
    )
