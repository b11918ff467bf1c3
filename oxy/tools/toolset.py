"""`Toolset`: the tools a run may call, resolved when the run starts (pydantic-ai's `AbstractToolset`).

A toolset answers two questions for a run: which tools are there (`get_tools`), and what does calling
one return (`call_tool`). It may hold something open while runs use it: `async with toolset:` brackets
one run (the ReAct loop calls `for_run` on every toolset when a run starts, and what it opened is left
when the run ends), or, with `lifetime = "process"`, the whole process: the first run opens it through
the runtime, and `Runtime.aclose()` closes it. Concurrent runs may enter the same toolset; one that holds
a connection counts its entries. A toolset can also override `for_run` to hand each run another toolset
(MCP: one shared connection per server, filtered per agent).

`FunctionToolset` turns `Tool` objects (typed Python functions, SQL, agents and workflows as tools)
into a toolset; `RunTools` is what one run resolved: every tool of every toolset, by name.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from types import TracebackType
from typing import Literal, Self

import anyio

from oxy.errors import ConfigError
from oxy.execution.context import ExecutionContext
from oxy.models.messages import ToolDefinition
from oxy.tools.base import Tool

__all__ = ["FunctionToolset", "RunTools", "Toolset", "open_toolsets", "shielded_exit"]

Lifetime = Literal["run", "process"]


class Toolset(ABC):
    """Tools for a run, and how to call them. Override `__aenter__`/`__aexit__` to hold a resource."""

    lifetime: Lifetime = "run"
    """`run`: entered and left around each run; `process`: opened once, closed by `Runtime.aclose()`
    (in a runtime that is not open, `async with runtime:`, a process-lifetime toolset is run-lifetime)."""

    @property
    def identity(self) -> Hashable:
        """What makes two toolsets the same connection: a process-lifetime toolset built again for each
        run (from YAML) is opened once per identity. By default, the object itself."""
        return id(self)

    @abstractmethod
    async def get_tools(self, ctx: ExecutionContext) -> Sequence[ToolDefinition]:
        """The tools this run may call (asked once per run, after the toolset is entered)."""

    @abstractmethod
    async def call_tool(self, ctx: ExecutionContext, name: str, arguments: str) -> str:
        """Call tool `name` with `arguments` (the JSON text the model wrote); raise `ToolError` (or any
        `OxyError`) to hand the model an error it can act on."""

    async def for_run(self, ctx: ExecutionContext, stack: AsyncExitStack) -> Toolset:
        """Make this toolset ready for one run and return the toolset the run uses; what it opens is left
        when `stack` closes (at the end of the run, in the run's task). By default: a process-lifetime
        toolset is opened once by the runtime (the instance it holds for this identity is returned), any
        other is entered with `async with` for the run. A toolset that shares a connection between toolsets
        that differ (e.g. MCP servers, filtered per agent) overrides this."""
        if self.lifetime == "process" and ctx.handle is not None and ctx.runtime.is_open:
            return await ctx.runtime.keep_open(self, key=self.identity)
        await self.__aenter__()
        stack.push_async_exit(shielded_exit(self))
        return self

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None


class FunctionToolset(Toolset):
    """A fixed list of `Tool` objects; names must be unique."""

    def __init__(self, tools: Sequence[Tool], *, file: str | None = None) -> None:
        self.tools: dict[str, Tool] = {}
        for tool in tools:
            if tool.name in self.tools:
                raise ConfigError(f"two tools are named {tool.name!r}; give each a unique `name`", file=file)
            self.tools[tool.name] = tool
        self._definitions = tuple(tool.definition() for tool in tools)

    async def get_tools(self, ctx: ExecutionContext) -> Sequence[ToolDefinition]:
        return self._definitions

    async def call_tool(self, ctx: ExecutionContext, name: str, arguments: str) -> str:
        return await self.tools[name].call(ctx, arguments)


class RunTools:
    """The tools one run resolved from its toolsets: definitions in order, each name's toolset."""

    def __init__(self, by_name: Mapping[str, tuple[Toolset, ToolDefinition]]) -> None:
        self._by_name = dict(by_name)
        self.definitions: tuple[ToolDefinition, ...] = tuple(d for _, d in self._by_name.values())

    @classmethod
    async def resolve(
        cls, ctx: ExecutionContext, toolsets: Sequence[Toolset], *, file: str | None = None
    ) -> RunTools:
        by_name: dict[str, tuple[Toolset, ToolDefinition]] = {}
        for toolset in toolsets:
            for definition in await toolset.get_tools(ctx):
                if definition.name in by_name:
                    raise ConfigError(
                        f"two tools are named {definition.name!r}; give each a unique `name`", file=file
                    )
                by_name[definition.name] = (toolset, definition)
        return cls(by_name)

    @property
    def names(self) -> list[str]:
        return list(self._by_name)

    def descriptions(self) -> dict[str, str]:
        """`{name: description}`: what `{{ tools }}` shows a template."""
        return {name: d.description for name, (_, d) in self._by_name.items()}

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    async def call(self, ctx: ExecutionContext, name: str, arguments: str) -> str:
        toolset, _ = self._by_name[name]
        return await toolset.call_tool(ctx, name, arguments)


async def open_toolsets(
    ctx: ExecutionContext, toolsets: Sequence[Toolset], stack: AsyncExitStack
) -> list[Toolset]:
    """Enter each toolset for this run (left when `stack` closes, even when the run is cancelled); a
    process-lifetime one is opened once by the runtime. Returns the toolsets to use: for a
    process-lifetime one, the instance the runtime holds for its identity."""
    return [await toolset.for_run(ctx, stack) for toolset in toolsets]


def shielded_exit(toolset: AbstractAsyncContextManager[object]) -> Callable[..., Awaitable[None]]:
    async def exit(
        exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        with anyio.CancelScope(shield=True):  # a cancelled run still closes what it opened
            await toolset.__aexit__(exc_type, exc, tb)

    return exit
