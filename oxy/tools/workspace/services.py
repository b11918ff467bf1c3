"""`WorkspaceServices`: what a workspace keeps between runs: background tasks and to-do lists. One per workspace root and process, opened by the runtime on first use (`keep_open`) and
closed with it, so no task or language server outlives the process that started it.

Who owns a task or a to-do list is the run's thread (a conversation), else the run itself: a thread's
tasks survive its turns and are stopped when the thread is closed (`stop_owner`) or the runtime closes.
"""

from __future__ import annotations

import functools
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


def identity(root: Path) -> tuple[Any, ...]:
    return ("workspace", str(root))


async def close_thread(runtime: RuntimeHandle, owner: str) -> list[TaskInfo]:
    """Stop the background tasks `owner` (a thread, a run) started in any workspace of `runtime`, and
    drop its to-do list: the conversation was closed. Returns the tasks stopped."""
    stopped: list[TaskInfo] = []
    for services in runtime.kept(WorkspaceServices):
        services.todos.pop(owner, None)
        for info in await services.tasks.stop_owner(owner):
            stopped.append(info)
            finish = functools.partial(
                runtime.store().finish_task,
                task_id=info.id,
                root=str(services.root),
                exit_code=info.exit_code,
            )
            await anyio.to_thread.run_sync(finish)
    return stopped
