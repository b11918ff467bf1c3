"""`formatter`: render a template; and the task types this engine knows but does not run."""

from __future__ import annotations

from oxy.config.workflow import FormatterTask
from oxy.errors import NotSupported
from oxy.execution.context import ExecutionContext
from oxy.runtime import runtime_of
from oxy.workflows._task import Task, TaskCall, TaskOutcome


class FormatterTaskRunner(Task):
    """The output is the rendered `template`."""

    config: FormatterTask

    async def run(self, ctx: ExecutionContext, call: TaskCall) -> TaskOutcome:
        renderer = runtime_of(ctx).renderer
        origin = self.origins.of((*self.at, "template"))
        return TaskOutcome(output=renderer.render(self.config.template, ctx.variables, origin=origin))


class UnsupportedTask(Task):
    """`semantic_query`, `omni_query`, `looker_query`: accepted in files, refused when run."""

    async def run(self, ctx: ExecutionContext, call: TaskCall) -> TaskOutcome:
        kind = getattr(self.config, "type", "unknown")
        line = self.origins.of(self.at).line
        where = f"{self.file}:{line}" if line is not None else self.file
        raise NotSupported(
            f"{where}: task {call.key!r} is a {kind} task, which this engine does not run yet; "
            "use an execute_sql task with the equivalent SQL"
        )
