"""The pieces every task shares: what a task is handed, how it runs as a step, and a task list.

A `TaskNode` runs one task as a step (`step_type="task"`): it replays the output of the run being
resumed, or reads the task's cache, or runs it, then writes its cache and export and records the
output in the run's journal. A `TaskSequence` runs nodes in order, each seeing the earlier outputs
by name in its template variables.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from oxy.config._yaml import DataPath
from oxy.config.workflow import TaskConfig
from oxy.errors import ConfigError, NotSupported, OxyError, RunError
from oxy.execution.context import ExecutionContext
from oxy.execution.executable import Executable, fn, step
from oxy.workflows._templating import Origins
from oxy.workflows.files import export_output, read_cached, write_cached
from oxy.workflows.journal import Journal

if TYPE_CHECKING:
    from oxy.workflows._registry import TaskBuilder

__all__ = ["Task", "TaskCall", "TaskFailed", "TaskNode", "TaskOutcome", "TaskSequence", "UnsupportedTask"]


class TaskFailed(RunError):
    """A task failed while it ran; `task_path` names it (`schedules/0/report`)."""

    def __init__(self, message: str, *, task_path: str) -> None:
        self.task_path = task_path
        super().__init__(message)


@dataclass(frozen=True, kw_only=True, slots=True)
class TaskCall:
    """What a task is handed besides its context: where it sits in the run and what came before it."""

    path: tuple[str, ...] = ()
    """The task's path in the run (`schedules`, `0`, `report`); its parent's while a node resolves it."""
    journal: Journal | None = None
    previous: Any = None
    """The output of the task before this one in its list (a `visualize` task charts it by default)."""
    stack: tuple[str, ...] = ()
    """The workflow files being run, outermost first (a workflow may not run itself)."""

    @property
    def key(self) -> str:
        return "/".join(self.path)


@dataclass(frozen=True, kw_only=True, slots=True)
class TaskOutcome:
    output: Any
    sql: str | None = None
    """The SQL a task ran, for an `export` in `sql` format."""


class Task(ABC):
    """One task of a workflow file; `run` does its work, the `TaskNode` around it does the rest."""

    text_output = True
    """Whether the output is a string (a cached output is then read back as text)."""

    def __init__(
        self, config: TaskConfig, *, builder: TaskBuilder, file: str, origins: Origins, at: DataPath
    ) -> None:
        self.config = config
        self.name = config.name
        self.file = file
        self.origins = origins
        self.at = at

    @abstractmethod
    async def run(self, ctx: ExecutionContext, call: TaskCall) -> TaskOutcome: ...


class UnsupportedTask(Task):
    """A task type no runner is registered for (`semantic_query`, `omni_query`, `looker_query`):
    accepted in files, refused when run."""

    async def run(self, ctx: ExecutionContext, call: TaskCall) -> TaskOutcome:
        kind = getattr(self.config, "type", "unknown")
        line = self.origins.of(self.at).line
        where = f"{self.file}:{line}" if line is not None else self.file
        raise NotSupported(
            f"{where}: task {call.key!r} is a {kind} task, which this engine does not run yet; "
            "use an execute_sql task with the equivalent SQL"
        )


class TaskNode(Executable[TaskCall, Any]):
    """Runs a task as a step, with replay, cache, export and journal around it."""

    def __init__(self, task: Task) -> None:
        self.task = task
        self.name = task.name
        self._step = step(fn(self._body), name=task.name, step_type="task")

    async def execute(self, ctx: ExecutionContext, input: TaskCall) -> Any:
        call = dataclasses.replace(input, path=(*input.path, self.name))
        journal = call.journal
        if journal is not None:
            replayed, output = journal.replayed(call.key)
            if replayed:
                await self._shortcut(ctx, call, output, step_type="task_replayed")
                return output
        cache = await self._cache_path(ctx)
        if cache is not None and cache.is_file():
            output = await anyio.to_thread.run_sync(
                functools.partial(read_cached, cache, text=self.task.text_output)
            )
            await self._shortcut(ctx, call, output, step_type="task_cached")
            return output
        output = await self._step.execute(ctx, call)
        if journal is not None:
            await journal.record(call.key, output)
        return output

    async def _shortcut(self, ctx: ExecutionContext, call: TaskCall, output: Any, *, step_type: str) -> None:
        async def give(ctx: ExecutionContext, call: TaskCall) -> Any:
            return output

        await step(fn(give), name=self.name, step_type=step_type).execute(ctx, call)
        if call.journal is not None:
            await call.journal.record(call.key, output)

    async def _body(self, ctx: ExecutionContext, call: TaskCall) -> Any:
        try:
            outcome = await self.task.run(ctx, call)
        except (ConfigError, TaskFailed):
            raise
        except OxyError as exc:
            raise TaskFailed(f"task {call.key!r} failed: {exc}", task_path=call.key) from exc
        cache = await self._cache_path(ctx)
        if cache is not None:
            await anyio.to_thread.run_sync(write_cached, cache, outcome.output)  # writes and fsyncs a file
        export = getattr(self.task.config, "export", None)
        if export is not None:
            path = await self._path(ctx, export.path, "export", "path")
            try:
                write = functools.partial(
                    export_output, outcome.output, path, export.format, sql=outcome.sql, task=call.key
                )
                await anyio.to_thread.run_sync(write)  # writes and fsyncs a file
            except ConfigError as exc:
                line = self.task.origins.of((*self.task.at, "export")).line
                raise ConfigError(exc.message, file=self.task.file, line=line) from None
        return outcome.output

    async def _cache_path(self, ctx: ExecutionContext) -> Path | None:
        """The declared cache file; for a run on a tenant's behalf (`oxy serve`), that tenant's own copy
        under `.oxy/cache/<tenant digest>/`, so one tenant never reads another's cached output."""
        cache = self.task.config.cache
        if cache is None or not cache.enabled:
            return None
        path = await self._path(ctx, cache.path, "cache", "path")
        tenant = ctx.caller.tenant
        if tenant is None:
            return path
        root = ctx.runtime.root.resolve()
        digest = hashlib.sha256(tenant.encode()).hexdigest()[:16]
        return root / ".oxy" / "cache" / digest / path.relative_to(root)

    async def _path(self, ctx: ExecutionContext, template: str, *keys: str) -> Path:
        runtime = ctx.runtime
        origin = self.task.origins.of((*self.task.at, *keys))
        rendered = await runtime.renderer.arender(template, ctx.variables, origin=origin)
        what = " ".join(keys)
        # The variables may come from a request: the path must stay inside the project, out of oxy's
        # own state (`.oxy/`: the run store), and inside the folder the template's fixed part names
        # (`output/{{ customer }}.txt` stays in `output/`).
        path = runtime.project.path(rendered, what=what, file=self.task.file, line=origin.line)
        root = runtime.root.resolve()
        relative = path.relative_to(root)
        if relative.parts[:1] == (".oxy",):
            raise ConfigError(
                f"{what} {rendered!r} is inside .oxy/, oxy's own state; write outputs elsewhere",
                file=self.task.file,
                line=origin.line,
            )
        fixed = re.split(r"{[{%]", template, maxsplit=1)[0]
        if fixed != template and "/" in fixed:
            folder = (root / fixed.rsplit("/", 1)[0]).resolve()
            if not path.is_relative_to(folder):
                raise ConfigError(
                    f"{what} {rendered!r} leaves {folder.relative_to(root).as_posix()!r}, the folder its "
                    "template names; a variable may choose a name there, not another folder",
                    file=self.task.file,
                    line=origin.line,
                )
        return path


class TaskSequence(Executable[TaskCall, dict[str, Any]]):
    """Run tasks in order; each sees the earlier outputs by name. The output maps names to outputs."""

    def __init__(self, nodes: Sequence[TaskNode]) -> None:
        self.nodes = tuple(nodes)

    @property
    def names(self) -> list[str]:
        return [node.name for node in self.nodes]

    async def execute(self, ctx: ExecutionContext, input: TaskCall) -> dict[str, Any]:
        outputs: dict[str, Any] = {}
        previous = input.previous
        for node in self.nodes:
            call = dataclasses.replace(input, previous=previous)
            previous = outputs[node.name] = await node.execute(ctx.with_variables(outputs), call)
        return outputs
