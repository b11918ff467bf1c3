"""One walker over a workflow's tasks and an agent's tools: the files they name, the tasks they hold.

Reference checks (`oxy validate`), cycle checks (an agent reaching itself) and anything else that needs
"every task, however deeply nested" use `walk_tasks`; each task config says what it holds
(`children()`) and which files it names (`file_refs()`), so a new task type is walked without
touching this module.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from oxy.config._yaml import DataPath

if TYPE_CHECKING:
    from oxy.config.workflow import TaskConfig

__all__ = ["FileRef", "FileRefKind", "walk_tasks"]

FileRefKind = Literal["agent", "workflow", "sql"]


@dataclass(frozen=True, kw_only=True, slots=True)
class FileRef:
    """A project file named by a task or a tool: under `key`, the path `ref`, a file of `kind`."""

    key: str
    ref: str
    kind: FileRefKind


def walk_tasks(
    tasks: Sequence[TaskConfig], at: DataPath = ("tasks",)
) -> Iterator[tuple[TaskConfig, DataPath]]:
    """Every task, depth first in file order, with its path in the file (`("tasks", 0, "tasks", 1)`)."""
    for i, task in enumerate(tasks):
        here: DataPath = (*at, i)
        yield task, here
        for below, children in task.children():
            yield from walk_tasks(children, (*here, *below))
