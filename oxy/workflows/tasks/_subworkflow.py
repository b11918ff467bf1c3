"""`workflow`: run another workflow file (`src`) with `variables`; `{{ task.<inner task> }}` after it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from oxy.config.workflow import WorkflowTask
from oxy.errors import ConfigError
from oxy.execution.context import ExecutionContext
from oxy.workflows._registry import TaskBuilder, task_type
from oxy.workflows._task import Task, TaskCall, TaskOutcome
from oxy.workflows._templating import Origins, arender_value

if TYPE_CHECKING:
    from oxy.config._yaml import DataPath


@task_type("workflow")
class SubWorkflowTask(Task):
    config: WorkflowTask
    text_output = False

    def __init__(
        self, config: WorkflowTask, *, builder: TaskBuilder, file: str, origins: Origins, at: DataPath
    ) -> None:
        super().__init__(config, builder=builder, file=file, origins=origins, at=at)
        self._builder = builder

    async def run(self, ctx: ExecutionContext, call: TaskCall) -> TaskOutcome:
        runtime = ctx.runtime
        origin = self.origins.of((*self.at, "variables"))
        given: dict[str, Any] = await arender_value(
            runtime.renderer, self.config.variables or {}, ctx.variables, origin=origin
        )
        workflow = self._builder.workflow(self.config.src)
        try:
            variables = workflow.resolve(given)
        except ConfigError as exc:
            raise ConfigError(
                f"task {self.name!r} runs {workflow.file}: {exc.message}", file=self.file, line=origin.line
            ) from None
        return TaskOutcome(output=await workflow.run(ctx, variables, call))
