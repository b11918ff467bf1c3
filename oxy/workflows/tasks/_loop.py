"""`loop_sequential`: run `tasks` once per value, up to `concurrency` at once, outputs in input order.

Inside the loop `{{ <loop name>.value }}` (and `{{ loop.value }}`) is the current value and
`{{ <loop name>.index }}` its position; after it, `{% for i in <loop name> %}{{ i.value }}
{{ i.<inner task> }}{% endfor %}`. `values` is a list (its strings are templates) or a template:
exactly `{{ expr }}` keeps the type of what it names (a column's values), other text must render to
a JSON or YAML list.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import yaml

from oxy.config.workflow import LoopSequentialTask
from oxy.databases.table import TableOutput
from oxy.errors import ConfigError
from oxy.execution.context import ExecutionContext
from oxy.execution.executable import concurrency, fn, step
from oxy.execution.groups import unwrap_group
from oxy.workflows._registry import TaskBuilder, task_type
from oxy.workflows._task import Task, TaskCall, TaskOutcome
from oxy.workflows._templating import Origins, arender_value, exact_expression
from oxy.workflows.outputs import LoopOutput

if TYPE_CHECKING:
    from oxy.config._yaml import DataPath


@task_type("loop_sequential")
class LoopTask(Task):
    config: LoopSequentialTask
    text_output = False

    def __init__(
        self, config: LoopSequentialTask, *, builder: TaskBuilder, file: str, origins: Origins, at: DataPath
    ) -> None:
        super().__init__(config, builder=builder, file=file, origins=origins, at=at)
        self.tasks = builder.sequence(config.tasks, file=file, origins=origins, at=(*at, "tasks"))

    async def run(self, ctx: ExecutionContext, call: TaskCall) -> TaskOutcome:
        items = list(enumerate(await self._values(ctx)))

        async def iterate(ctx: ExecutionContext, item: tuple[int, Any]) -> dict[str, Any]:
            return await self._iterate(ctx, call, item)

        async def one(ctx: ExecutionContext, item: tuple[int, Any]) -> dict[str, Any]:
            return await step(fn(iterate), name=str(item[0]), step_type="loop_iteration").execute(ctx, item)

        limit = self.config.concurrency
        try:
            outputs: list[dict[str, Any]] = await concurrency(fn(one), limit).execute(ctx, items)
        except BaseExceptionGroup as group:
            raise unwrap_group(group) from None
        return TaskOutcome(output=LoopOutput(items=tuple(outputs)))

    async def _iterate(self, ctx: ExecutionContext, call: TaskCall, item: tuple[int, Any]) -> dict[str, Any]:
        index, value = item
        current = {"value": value, "index": index}
        names = {self.name: current}
        if "loop" not in self.tasks.names:
            names["loop"] = current
        inner = dataclasses.replace(call, path=(*call.path, str(index)), previous=None)
        outputs = await self.tasks.execute(ctx.with_variables(names), inner)
        return {"value": value, **outputs}

    async def _values(self, ctx: ExecutionContext) -> list[Any]:
        renderer = ctx.runtime.renderer
        origin = self.origins.of((*self.at, "values"))
        raw = self.config.values
        if isinstance(raw, list):
            return list(await arender_value(renderer, raw, ctx.variables, origin=origin))
        expr = exact_expression(raw)
        value: Any
        if expr is not None:
            value = await renderer.aeval(expr, ctx.variables, origin=origin)
        else:
            value = _parse_list(await renderer.arender(raw, ctx.variables, origin=origin))
        if isinstance(value, TableOutput):
            return value.column(value.columns[0]) if len(value.columns) == 1 else value.records()
        if isinstance(value, LoopOutput):
            return list(value.items)
        if isinstance(value, str):
            value = _parse_list(value)
        if not isinstance(value, Sequence) or isinstance(value, str):
            raise ConfigError(
                f"values: {raw!r} gave {type(value).__name__} {value!r}, not a list",
                file=self.file,
                line=origin.line,
            )
        return list(value)  # pyright: ignore[reportUnknownArgumentType]


def _parse_list(text: str) -> Any:
    text = text.strip()
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text
