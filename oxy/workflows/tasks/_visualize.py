"""`visualize`: a Vega-Lite chart of a table, sent as a `chart` event; the spec is the output."""

from __future__ import annotations

from typing import Any

from oxy.config.workflow import VisualizeTask
from oxy.databases.table import TableOutput
from oxy.errors import ConfigError
from oxy.events.types import ChartEvent
from oxy.execution.context import ExecutionContext
from oxy.workflows._registry import task_type
from oxy.workflows._task import Task, TaskCall, TaskOutcome
from oxy.workflows._templating import exact_expression
from oxy.workflows.charts import chart_spec
from oxy.workflows.outputs import ChartOutput


@task_type("visualize")
class VisualizeTaskRunner(Task):
    config: VisualizeTask
    text_output = False

    async def run(self, ctx: ExecutionContext, call: TaskCall) -> TaskOutcome:
        config = self.config
        table = await self._table(ctx, call)
        title = config.title or config.prompt.strip() or None
        if title is not None:
            title = await ctx.runtime.renderer.arender(
                title, ctx.variables, origin=self.origins.of((*self.at, "title"))
            )
        origin = self.origins.of(self.at)
        try:
            spec = chart_spec(
                table, chart_type=config.chart_type, x=config.x, y=config.y, color=config.color, title=title
            )
        except ConfigError as exc:
            raise ConfigError(
                f"task {self.name!r}: {exc.message}", file=self.file, line=origin.line
            ) from None
        await ctx.emit(ChartEvent(source=ctx.source, spec=spec, title=title))
        return TaskOutcome(output=ChartOutput(spec=spec, title=title))

    async def _table(self, ctx: ExecutionContext, call: TaskCall) -> TableOutput:
        data = self.config.data
        value: Any
        if data is None:
            value = call.previous
            what = "the previous task's output"
        else:
            expr = exact_expression(data) or data
            origin = self.origins.of((*self.at, "data"))
            value = await ctx.runtime.renderer.aeval(expr, ctx.variables, origin=origin)
            what = repr(data)
        if not isinstance(value, TableOutput):
            line = self.origins.of(self.at).line
            raise ConfigError(
                f"task {self.name!r} charts a table, but {what} is {type(value).__name__}; "
                "set `data` to an execute_sql task's name",
                file=self.file,
                line=line,
            )
        return value
