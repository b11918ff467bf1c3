"""Task types by `type:`: each task module registers its `Task` class beside its implementation.

```python
@task_type("execute_sql")
class SqlTask(Task): ...
```

`task_class(config.type)` looks one up; the modules of `oxy.workflows.tasks` register themselves when
first asked (every module in that package), and other packages add theirs through the
`oxy.workflow_tasks` entry-point group. A task that holds other tasks (a loop, a condition, a
sub-workflow) builds them through the `TaskBuilder` it is given, never by importing the builder.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from oxy.config._yaml import DataPath
from oxy.config.plugins import load_plugins
from oxy.config.workflow import TaskConfig
from oxy.execution.agent_io import AgentAnswer, AgentRequest
from oxy.execution.context import ExecutionContext
from oxy.execution.runtime import RuntimeHandle
from oxy.models.client import ModelClient
from oxy.workflows._templating import Origins

if TYPE_CHECKING:
    from oxy.workflows._task import Task, TaskCall, TaskSequence

__all__ = ["AgentFactory", "SubWorkflow", "TaskBuilder", "WorkflowAgent", "task_class", "task_type"]


class WorkflowAgent(Protocol):
    """An agent as a workflow's `agent` task runs it (the application layer builds it)."""

    @property
    def name(self) -> str: ...

    @property
    def file(self) -> str: ...

    @property
    def model(self) -> ModelClient: ...

    async def execute(self, ctx: ExecutionContext, input: AgentRequest) -> AgentAnswer: ...


AgentFactory = Callable[..., WorkflowAgent]
"""`agents(ref, file=workflow_file)`: the agent in `ref`, built once per workflow build."""


class SubWorkflow(Protocol):
    """Another workflow file, as a `workflow` task runs it."""

    @property
    def file(self) -> str: ...

    def resolve(self, variables: Mapping[str, Any], *, file: str | None = None) -> dict[str, Any]: ...

    async def run(
        self, ctx: ExecutionContext, variables: Mapping[str, Any], call: TaskCall
    ) -> dict[str, Any]: ...


class TaskBuilder(Protocol):
    """What a task may build while it is built: nested task lists, agents, other workflows."""

    @property
    def runtime(self) -> RuntimeHandle: ...

    def sequence(
        self, configs: Sequence[TaskConfig], *, file: str, origins: Origins, at: DataPath
    ) -> TaskSequence: ...

    def agent(self, ref: str, *, file: str) -> WorkflowAgent: ...

    def workflow(self, ref: str) -> SubWorkflow: ...


TaskT = TypeVar("TaskT", bound="type[Task]")

_CLASSES: dict[str, type[Task]] = {}
_loaded = False


def task_type(*names: str) -> Callable[[TaskT], TaskT]:
    """Register the decorated `Task` subclass as the runner of the task types `names`."""

    def register(cls: TaskT) -> TaskT:
        for name in names:
            _CLASSES[name] = cls
        return cls

    return register


def task_class(name: str) -> type[Task] | None:
    """The `Task` class registered for `name`, or `None`."""
    _load()
    return _CLASSES.get(name)


def _load() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        load_plugins("oxy.workflow_tasks", package="oxy.workflows.tasks")
