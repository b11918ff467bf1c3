"""`formatter`: render a template."""

from __future__ import annotations

from oxy.config.workflow import FormatterTask
from oxy.execution.context import ExecutionContext
from oxy.workflows._registry import task_type
from oxy.workflows._task import Task, TaskCall, TaskOutcome


@task_type("formatter")
class FormatterTaskRunner(Task):
    """The output is the rendered `template`."""

    config: FormatterTask

    async def run(self, ctx: ExecutionContext, call: TaskCall) -> TaskOutcome:
        renderer = ctx.runtime.renderer
        origin = self.origins.of((*self.at, "template"))
        return TaskOutcome(output=await renderer.arender(self.config.template, ctx.variables, origin=origin))
