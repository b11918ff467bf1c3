"""`WorkspaceServices`: what a workspace keeps between runs: background tasks and to-do lists. One per workspace root and process, opened by the runtime on first use (`keep_open`) and
closed with it, so no task or language server outlives the process that started it.

Who owns a task or a to-do list is the run's thread (a conversation), else the run itself: a thread's
tasks survive its turns and are stopped when the thread is closed (`stop_owner`) or the runtime closes.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import anyio

from oxy.execution.context import ExecutionContext
from oxy.execution.runtime import RuntimeHandle
from oxy.tools.workspace.processes import TaskInfo, TaskManager

__all__ = ["LANGUAGES", "TodoItem", "WorkspaceServices", "close_thread", "owner_of"]

LANGUAGES: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".ts": "typescript",
    ".tsx": "typescript",
    ".js": "javascript",
    ".jsx": "javascript",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c",
    ".h": "c",
    ".cpp": "cpp",
    ".rb": "ruby",
}
"""Language of a file by suffix: which `lsp:` command serves it."""


def owner_of(ctx: ExecutionContext) -> str:
    """Whose tasks and to-do list a call uses: the conversation's, else the run's."""
    return ctx.caller.thread_id or ctx.run_id


@dataclass(frozen=True, kw_only=True, slots=True)
class TodoItem:
    content: str
    status: str


@dataclass(eq=False)
class WorkspaceServices:
    root: Path
    tasks: TaskManager = field(default_factory=TaskManager)
    todos: dict[str, list[TodoItem]] = field(default_factory=dict[str, list[TodoItem]])
    _stack: AsyncExitStack = field(default_factory=AsyncExitStack)

    async def __aenter__(self) -> Self:
        await self._stack.__aenter__()
        await self._stack.enter_async_context(self.tasks)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # Not shielded here: the task manager's task group must exit in the scope it was entered in;
        # it shields its own stopping.
        await self._stack.__aexit__(exc_type, exc, tb)

    async def start_task(self, ctx: ExecutionContext, command: str, *, env: Mapping[str, str]) -> TaskInfo:
        """Start `command` in the background for the call's thread (or run), and record it in the
        run store for `oxy tasks list`."""
        owner = owner_of(ctx)
        info = await self.tasks.start(command, cwd=self.root, env=env, owner=owner)
        if ctx.handle is not None:
            runtime, root, tenant = ctx.runtime, str(self.root), ctx.caller.tenant
            await anyio.to_thread.run_sync(
                lambda: runtime.store().record_task(
                    task_id=info.id, owner=owner, tenant=tenant, command=command, pid=info.pid, root=root
                )
            )
        return info

    async def stop_task(self, ctx: ExecutionContext, task_id: str) -> TaskInfo:
        info = await self.tasks.stop(task_id, owner=owner_of(ctx))
        if ctx.handle is not None:
            await self._recorded_stop(ctx.runtime, info)
        return info

    async def close_owner(self, runtime: RuntimeHandle, owner: str) -> list[TaskInfo]:
        """Stop `owner`'s tasks and drop its to-do list: its conversation is over."""
        self.todos.pop(owner, None)
        stopped = await self.tasks.stop_owner(owner)
        for info in stopped:
            await self._recorded_stop(runtime, info)
        return stopped

    async def _recorded_stop(self, runtime: RuntimeHandle, info: TaskInfo) -> None:
        root = str(self.root)
        await anyio.to_thread.run_sync(
            lambda: runtime.store().finish_task(task_id=info.id, root=root, exit_code=info.exit_code)
        )


def identity(root: Path) -> tuple[Any, ...]:
    return ("workspace", str(root))


async def close_thread(runtime: RuntimeHandle, owner: str) -> list[TaskInfo]:
    """Stop the background tasks `owner` (a thread, a run) started in any workspace of `runtime`, and
    drop its to-do list: the conversation was closed. Returns the tasks stopped."""
    stopped: list[TaskInfo] = []
    for services in runtime.kept(WorkspaceServices):
        stopped.extend(await services.close_owner(runtime, owner))
    return stopped
