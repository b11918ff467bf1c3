"""Tool types and task types are registries: a new one is registered beside its implementation."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from oxy import Runtime, load_project, run_file
from oxy.config.tools import VisualizeTool
from oxy.config.workflow import SemanticQueryTask
from oxy.errors import NotSupported
from oxy.execution.context import ExecutionContext
from oxy.testing import Reply, ScriptedModel, tool_call
from oxy.tools import registry as tools
from oxy.tools.base import FunctionTool, Tool
from oxy.tools.registry import ToolBuild, tool_type
from oxy.workflows import _registry as tasks
from oxy.workflows._registry import task_type
from oxy.workflows._task import Task, TaskCall, TaskOutcome

QUICKSTART = Path(__file__).resolve().parents[2] / "projects" / "quickstart"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    shutil.copytree(QUICKSTART, root)
    return root


@pytest.fixture
def registries() -> Iterator[None]:
    """Leave the registries as they were: a test's own types are gone after it."""
    tools.tool_types()
    tasks.task_class("execute_sql")
    saved_tools, saved_tasks = dict(tools._BUILDERS), dict(tasks._CLASSES)  # pyright: ignore[reportPrivateUsage]
    yield
    tools._BUILDERS.clear()  # pyright: ignore[reportPrivateUsage]
    tools._BUILDERS.update(saved_tools)  # pyright: ignore[reportPrivateUsage]
    tasks._CLASSES.clear()  # pyright: ignore[reportPrivateUsage]
    tasks._CLASSES.update(saved_tasks)  # pyright: ignore[reportPrivateUsage]


def test_the_built_in_tool_types_register_themselves() -> None:
    assert tools.tool_types() == [
        "agent",
        "execute_sql",
        "mcp",
        "memory",
        "python",
        "retrieval",
        "validate_sql",
        "workflow",
        "workspace",
    ]


def test_a_registered_tool_type_runs_from_yaml(project: Path, registries: None) -> None:
    @tool_type("visualize")
    def _chart(config: VisualizeTool, build: ToolBuild) -> Tool:
        async def visualize(title: str) -> str:
            """Draw a chart."""
            return f"charted {title} for {build.file}"

        return FunctionTool(visualize, name=config.name)

    (project / "agents/chart.agent.yml").write_text(
        "model: smollm2\nsystem_instructions: Chart.\ntools:\n  - type: visualize\n"
    )
    model = ScriptedModel(
        [Reply(tool_calls=[tool_call("visualize", {"title": "sales"})]), Reply(text="Done.")]
    )
    runtime = Runtime.for_project(load_project(project), models={"smollm2": model})
    result = anyio.run(
        lambda: run_file(project / "agents/chart.agent.yml", runtime=runtime, prompt="Chart it")
    )
    assert result.answer is not None
    assert result.answer.messages[3].content == "charted sales for agents/chart.agent.yml"  # pyright: ignore[reportAttributeAccessIssue]


def test_an_unregistered_tool_type_says_which_types_run(project: Path) -> None:
    (project / "agents/dbt.agent.yml").write_text(
        "model: smollm2\nsystem_instructions: Go.\ntools:\n  - type: dbt_run\n"
    )
    runtime = Runtime.for_project(load_project(project), models={"smollm2": ScriptedModel([])})
    with pytest.raises(
        NotSupported, match=r"tool type 'dbt_run' \(tool 'dbt_run'\) does not run .* one of: agent, "
    ):
        anyio.run(lambda: run_file(project / "agents/dbt.agent.yml", runtime=runtime, prompt="Go"))


def test_a_registered_task_type_runs_in_a_workflow(project: Path, registries: None) -> None:
    @task_type("semantic_query")
    class _Semantic(Task):
        config: SemanticQueryTask
        text_output = True

        async def run(self, ctx: ExecutionContext, call: TaskCall) -> TaskOutcome:
            return TaskOutcome(output=f"topic {self.config.topic} at {call.key}")

    (project / "workflows/semantic.workflow.yml").write_text(
        textwrap.dedent(
            """\
            tasks:
              - name: ask
                type: semantic_query
                topic: orders
              - name: show
                type: formatter
                template: "{{ ask }}!"
            """
        )
    )
    runtime = Runtime.for_project(load_project(project))
    result = anyio.run(lambda: run_file(project / "workflows/semantic.workflow.yml", runtime=runtime))
    assert result.error is None
    assert result.output == {"ask": "topic orders at ask", "show": "topic orders at ask!"}
