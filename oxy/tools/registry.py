"""Tool types by `type:`: each built-in registers its builder beside its implementation.

```python
@tool_type("execute_sql")
def _build(config: ExecuteSqlTool, build: ToolBuild) -> Tool | Toolset: ...
```

`build_toolset(config, build)` looks the builder up; the modules of this package register themselves
when first asked (every `oxy/tools/*.py`), and other packages add theirs through the `oxy.tools`
entry-point group (an entry point names a module that calls `tool_type`). Tools that run an agent or a
workflow get what they call through `ToolBuild.delegates`, which the application layer fills: this
layer never imports agents or workflows.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from oxy.config.permissions import Permissions
from oxy.config.plugins import load_plugins
from oxy.errors import NotSupported
from oxy.execution.context import ExecutionContext
from oxy.execution.runtime import RuntimeHandle
from oxy.tools.base import Tool
from oxy.tools.toolset import FunctionToolset, Toolset

__all__ = [
    "AskAgent",
    "Delegates",
    "RunWorkflow",
    "ToolBuild",
    "ToolBuilder",
    "build_toolset",
    "tool_type",
    "tool_types",
]

AskAgent = Callable[[ExecutionContext, str], Awaitable[str]]
"""Run an agent (as a nested step of `ctx`) on a prompt and return its final answer."""
RunWorkflow = Callable[[ExecutionContext, dict[str, Any]], Awaitable[Any]]
"""Run a workflow (as a nested step of `ctx`) with these variables; returns the chosen task's output."""


class Delegates(Protocol):
    """Running other project files as nested steps: what agent and workflow tools call.

    The application layer implements it (it wires agents and workflows to each other)."""

    def ask_agent(self, ref: str) -> AskAgent:
        """`await ask(ctx, prompt) -> str`: the agent's answer, run as a nested step of `ctx`."""
        ...

    def agent_description(self, ref: str) -> str: ...

    def run_workflow(self, ref: str, *, output_task: str | None = None) -> RunWorkflow:
        """`await run(ctx, variables) -> output`: the chosen task's output (default: the last task's)."""
        ...

    def workflow_variables(self, ref: str) -> Mapping[str, Any]: ...

    def workflow_description(self, ref: str) -> str: ...


@dataclass(frozen=True, kw_only=True)
class ToolBuild:
    """What a tool builder may use: the project runtime, the agent file it builds for, the delegates."""

    runtime: RuntimeHandle
    file: str
    delegates: Delegates
    permissions: Permissions | None = None
    """The agent's `permissions:` (rules for its workspace tools' calls)."""


ConfigT = TypeVar("ConfigT")
ToolBuilder = Callable[[Any, ToolBuild], "Tool | Toolset"]

_BUILDERS: dict[str, ToolBuilder] = {}
_loaded = False


def tool_type(
    *names: str,
) -> Callable[
    [Callable[[ConfigT, ToolBuild], Tool | Toolset]], Callable[[ConfigT, ToolBuild], Tool | Toolset]
]:
    """Register the decorated function as the builder of the tool types `names`."""

    def register(
        builder: Callable[[ConfigT, ToolBuild], Tool | Toolset],
    ) -> Callable[[ConfigT, ToolBuild], Tool | Toolset]:
        for name in names:
            _BUILDERS[name] = builder
        return builder

    return register


def tool_types() -> list[str]:
    """Every registered tool type, sorted."""
    _load()
    return sorted(_BUILDERS)


def build_toolset(config: Any, build: ToolBuild) -> Toolset:
    """The toolset of one `tools:` entry (a single tool becomes a one-tool `FunctionToolset`)."""
    _load()
    kind: str = config.type
    builder = _BUILDERS.get(kind)
    if builder is None:
        name = getattr(config, "name", kind)
        raise NotSupported(
            f"{build.file}: tool type {kind!r} (tool {name!r}) does not run in this version of oxy yet; "
            f"remove it from the agent's tools or use one of: {', '.join(sorted(_BUILDERS))}"
        )
    built = builder(config, build)
    return built if isinstance(built, Toolset) else FunctionToolset([built], file=build.file)


def _load() -> None:
    """This package's modules (each registers its tool types) and the `oxy.tools` entry points, once."""
    global _loaded
    if not _loaded:
        _loaded = True
        load_plugins("oxy.tools", package="oxy.tools")
