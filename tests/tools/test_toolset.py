"""Toolsets are resolved per run: entered when a run starts, left when it ends; process-lifetime ones
are opened once and closed by `Runtime.aclose()`."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

import anyio
import pytest

from oxy import Runtime, load_project, run_file
from oxy.errors import ConfigError
from oxy.execution.context import ExecutionContext
from oxy.models.messages import ToolDefinition
from oxy.testing import Reply, ScriptedModel, tool_call
from oxy.tools.base import FunctionTool
from oxy.tools.toolset import FunctionToolset, Lifetime, Toolset

QUICKSTART = Path(__file__).resolve().parents[2] / "projects" / "quickstart"


class Counter(Toolset):
    """A toolset with a 'connection': records every open, close and call, and what each run saw."""

    def __init__(self, *, lifetime: Lifetime = "run") -> None:
        self.lifetime = lifetime
        self.log: list[str] = []
        self.open = 0

    async def __aenter__(self) -> Self:
        self.open += 1
        self.log.append("open")
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.open -= 1
        self.log.append("close")

    async def get_tools(self, ctx: ExecutionContext) -> Sequence[ToolDefinition]:
        self.log.append(f"tools:{ctx.caller.user}")
        return [
            ToolDefinition(
                name="count", description="Count.", parameters={"type": "object", "properties": {}}
            )
        ]

    async def call_tool(self, ctx: ExecutionContext, name: str, arguments: str) -> str:
        assert self.open > 0, "called while closed"
        self.log.append(f"call:{name}")
        return "3"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    shutil.copytree(QUICKSTART, root)
    return root


def _two_runs(project: Path, toolset: Counter) -> Runtime:
    """Two runs, each in a task of its own (as `oxy serve` runs them), in an open runtime."""
    model = ScriptedModel([Reply(tool_calls=[tool_call("count", {})]), Reply(text="Three.")] * 2)
    runtime = Runtime.for_project(load_project(project), models={"smollm2": model}, toolsets=[toolset])

    async def one() -> None:
        result = await run_file(project / "agents/analyst.agent.yml", runtime=runtime, prompt="How many?")
        assert result.output == "Three.", result.error

    async def main() -> None:
        async with runtime:
            for _ in range(2):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(one)
            toolset.log.append("runs done")

    anyio.run(main)
    return runtime


def test_a_run_lifetime_toolset_is_entered_and_left_around_each_run(project: Path) -> None:
    toolset = Counter()
    _two_runs(project, toolset)
    assert toolset.log == ["open", "tools:None", "call:count", "close"] * 2 + ["runs done"]


def test_a_process_lifetime_toolset_is_opened_once_and_closed_by_aclose(project: Path) -> None:
    toolset = Counter(lifetime="process")
    _two_runs(project, toolset)
    assert toolset.log == [
        "open",
        "tools:None",
        "call:count",
        "tools:None",
        "call:count",
        "runs done",
        "close",
    ]


class Connection(Counter):
    """A process-lifetime toolset built anew for every run (as a YAML tool type's builder does) whose
    connection holds a task group: it must be entered and left in the runtime's task."""

    opened: list[Connection] = []

    def __init__(self) -> None:
        super().__init__(lifetime="process")

    @property
    def identity(self) -> object:
        return "the-connection"

    async def __aenter__(self) -> Self:
        self._group = anyio.create_task_group()
        await self._group.__aenter__()
        Connection.opened.append(self)
        return await super().__aenter__()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await super().__aexit__(exc_type, exc, tb)
        await self._group.__aexit__(exc_type, exc, tb)


def test_a_process_toolset_built_per_run_is_opened_once_per_identity(project: Path) -> None:
    Connection.opened.clear()
    built: list[Connection] = []

    async def main() -> None:
        model = ScriptedModel([Reply(tool_calls=[tool_call("count", {})]), Reply(text="Three.")] * 3)
        async with Runtime.for_project(load_project(project), models={"smollm2": model}) as runtime:
            for _ in range(3):
                toolset = Connection()
                built.append(toolset)
                runtime.toolsets = (toolset,)  # what a builder does for each run

                async def one() -> None:
                    result = await run_file(
                        project / "agents/analyst.agent.yml", runtime=runtime, prompt="Count"
                    )
                    assert result.output == "Three.", result.error

                async with anyio.create_task_group() as tg:
                    tg.start_soon(one)
            assert [c.open for c in Connection.opened] == [1]

    anyio.run(main)
    assert Connection.opened == built[:1]
    assert built[0].log == ["open", *["tools:None", "call:count"] * 3, "close"]
    assert [c.log for c in built[1:]] == [[], []]  # never opened: the runtime's instance answered


def test_a_cancelled_run_leaves_its_toolsets(project: Path) -> None:
    toolset = Counter()
    model = ScriptedModel([Reply(text="late", delay=30)])
    runtime = Runtime.for_project(load_project(project), models={"smollm2": model}, toolsets=[toolset])

    async def main() -> None:
        with anyio.move_on_after(0.3):
            await run_file(project / "agents/analyst.agent.yml", runtime=runtime, prompt="Hi")

    anyio.run(main)
    assert (toolset.open, toolset.log) == (0, ["open", "tools:None", "close"])


def test_a_toolset_is_left_when_the_run_fails(project: Path) -> None:
    toolset = Counter()
    model = ScriptedModel([Reply(tool_calls=[tool_call("count", {})])] * 6)
    runtime = Runtime.for_project(load_project(project), models={"smollm2": model}, toolsets=[toolset])
    result = anyio.run(lambda: run_file(project / "agents/analyst.agent.yml", runtime=runtime, prompt="Loop"))
    assert result.status == "error"
    assert (toolset.open, toolset.log[0], toolset.log[-1]) == (0, "open", "close")


def test_two_tools_of_one_name_across_toolsets_are_a_config_error(project: Path) -> None:
    async def execute_sql() -> str:
        """Shadow the agent's own tool."""
        return "no"

    runtime = Runtime.for_project(
        load_project(project),
        models={"smollm2": ScriptedModel([Reply(text="unused")])},
        toolsets=[FunctionToolset([FunctionTool(execute_sql)])],
    )
    result = anyio.run(lambda: run_file(project / "agents/analyst.agent.yml", runtime=runtime, prompt="Hi"))
    assert isinstance(result.error, ConfigError)
    assert "two tools are named 'execute_sql'" in str(result.error)
