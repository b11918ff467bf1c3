"""Building a workflow file into an executable: `build_workflow(config, file=, runtime=)`.

A workflow is its variables (checked against their JSON Schemas, defaults filled in) followed by a
`TaskSequence` of task nodes, run as one step (`step_type="workflow"`). Agents and sub-workflows are
built once per `Builder` and shared, so a loop does not rebuild them for every item.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from oxy.config._yaml import DataPath
from oxy.config.workflow import TaskConfig, WorkflowConfig
from oxy.errors import ConfigError
from oxy.execution.context import ExecutionContext
from oxy.execution.executable import Executable, fn, step
from oxy.execution.runtime import RuntimeHandle
from oxy.workflows._registry import AgentFactory, WorkflowAgent, task_class
from oxy.workflows._task import Task, TaskCall, TaskNode, TaskSequence, UnsupportedTask
from oxy.workflows._templating import Origins
from oxy.workflows.journal import Journal
from oxy.workflows.variables import resolve_variables

__all__ = ["Builder", "WorkflowExecutable", "build_workflow"]


class Builder:
    """Builds tasks of one runtime (a `TaskBuilder`); shares the agents and sub-workflows it builds."""

    def __init__(self, runtime: RuntimeHandle, *, agents: AgentFactory) -> None:
        self._runtime = runtime
        self._agent_factory = agents
        self._agents: dict[str, WorkflowAgent] = {}
        self._workflows: dict[str, WorkflowExecutable] = {}

    @property
    def runtime(self) -> RuntimeHandle:
        return self._runtime

    def agent(self, ref: str, *, file: str) -> WorkflowAgent:
        rel = self._runtime.project.relative(ref)
        if rel not in self._agents:
            self._agents[rel] = self._agent_factory(ref, file=file)
        return self._agents[rel]

    def workflow(self, ref: str) -> WorkflowExecutable:
        rel = self._runtime.project.relative(ref)
        if rel not in self._workflows:
            config = self._runtime.project.workflow(ref)
            self._workflows[rel] = WorkflowExecutable(config, file=rel, builder=self)
        return self._workflows[rel]

    def sequence(
        self, configs: Sequence[TaskConfig], *, file: str, origins: Origins, at: DataPath
    ) -> TaskSequence:
        return TaskSequence(
            [TaskNode(self.task(c, file=file, origins=origins, at=(*at, i))) for i, c in enumerate(configs)]
        )

    def task(self, config: TaskConfig, *, file: str, origins: Origins, at: DataPath) -> Task:
        cls = task_class(config.type) or UnsupportedTask
        return cls(config, builder=self, file=file, origins=origins, at=at)


class WorkflowExecutable(Executable[dict[str, Any], dict[str, Any]]):
    """A workflow file: input its variables, output each top-level task's output by name."""

    def __init__(
        self, config: WorkflowConfig, *, file: str, builder: Builder, journal: Journal | None = None
    ) -> None:
        self.config = config
        self.file = file
        self.name = config.name or file
        self.journal = journal
        origins = _origins(builder.runtime, file)
        self.tasks = builder.sequence(config.tasks, file=file, origins=origins, at=("tasks",))
        self._step = step(fn(self._top), name=self.name, step_type="workflow")

    @property
    def task_names(self) -> list[str]:
        return self.tasks.names

    def resolve(self, variables: Mapping[str, Any], *, file: str | None = None) -> dict[str, Any]:
        """The workflow's variables: `variables` over the defaults, checked against their schemas."""
        return resolve_variables(self.config.variables, variables, file=file or self.file)

    async def execute(self, ctx: ExecutionContext, input: dict[str, Any]) -> dict[str, Any]:
        return await self._step.execute(ctx, input)

    async def _top(self, ctx: ExecutionContext, input: dict[str, Any]) -> dict[str, Any]:
        return await self.run(ctx, self.resolve(input), TaskCall(journal=self.journal))

    async def run(
        self, ctx: ExecutionContext, variables: Mapping[str, Any], call: TaskCall
    ) -> dict[str, Any]:
        """Run the tasks with these (resolved) variables, as part of `call` (a sub-workflow's task)."""
        if self.file in call.stack:
            chain = " → ".join((*call.stack, self.file))
            raise ConfigError(
                f"workflow {self.file!r} runs itself ({chain}); remove the cycle", file=call.stack[-1]
            )
        inner = dataclasses.replace(call, stack=(*call.stack, self.file), previous=None)
        return await self.tasks.execute(dataclasses.replace(ctx, variables=dict(variables)), inner)


def _origins(runtime: RuntimeHandle, file: str) -> Origins:
    path = runtime.project.path(file)
    return Origins.load(path, file=file) if path.is_file() else Origins.unknown(file)


def build_workflow(
    config: WorkflowConfig,
    *,
    file: str,
    runtime: RuntimeHandle,
    agents: AgentFactory,
    journal: Journal | None = None,
) -> WorkflowExecutable:
    """The executable of a workflow file: input its variables (`{name: value}`), output each task's output.

    `file` is the workflow's path relative to the project root (errors and template lines name it).
    Run it with `run_executable(exe, variables, target=file, runtime=runtime)`, or inside another
    run's context (a workflow used as an agent's tool); its events carry `workflow › task › …` sources.
    `agents(ref, file=)` builds the agent of an `agent` task (the application layer hands it in).
    """
    return WorkflowExecutable(config, file=file, builder=Builder(runtime, agents=agents), journal=journal)
