"""`conditional`: run the tasks of the first `if` that holds, else the `else` tasks (if any).

`if` is an expression (`fruit == "apple"`, `sales.sales[0] > 100`), with or without `{{ }}`; a
rendered `false`, `0`, `none` or empty text is false. The output is the dict of the branch's
outputs (`{{ task.<inner task> }}`), empty when no branch ran.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from oxy.config.workflow import ConditionalTask
from oxy.execution.context import ExecutionContext
from oxy.workflows._registry import TaskBuilder, task_type
from oxy.workflows._task import Task, TaskCall, TaskOutcome, TaskSequence
from oxy.workflows._templating import Origins, exact_expression

if TYPE_CHECKING:
    from oxy.config._yaml import DataPath

_FALSE = ("", "false", "0", "none", "no", "null")


@task_type("conditional")
class ConditionalTaskRunner(Task):
    config: ConditionalTask
    text_output = False

    def __init__(
        self, config: ConditionalTask, *, builder: TaskBuilder, file: str, origins: Origins, at: DataPath
    ) -> None:
        super().__init__(config, builder=builder, file=file, origins=origins, at=at)
        self.branches: list[tuple[str, DataPath, TaskSequence]] = [
            (
                condition.if_,
                (*at, "conditions", i, "if"),
                builder.sequence(
                    condition.tasks, file=file, origins=origins, at=(*at, "conditions", i, "tasks")
                ),
            )
            for i, condition in enumerate(config.conditions)
        ]
        self.otherwise = (
            builder.sequence(config.else_, file=file, origins=origins, at=(*at, "else"))
            if config.else_
            else None
        )

    async def run(self, ctx: ExecutionContext, call: TaskCall) -> TaskOutcome:
        for expression, at, tasks in self.branches:
            if await self._holds(ctx, expression, at):
                return TaskOutcome(output=await tasks.execute(ctx, call))
        if self.otherwise is not None:
            return TaskOutcome(output=await self.otherwise.execute(ctx, call))
        return TaskOutcome(output={})

    async def _holds(self, ctx: ExecutionContext, expression: str, at: DataPath) -> bool:
        renderer = ctx.runtime.renderer
        origin = self.origins.of(at)
        expr = exact_expression(expression)
        if expr is None and ("{{" in expression or "{%" in expression):
            text = await renderer.arender(expression, ctx.variables, origin=origin)
            return text.strip().lower() not in _FALSE
        value: Any = await renderer.aeval(
            expr if expr is not None else expression, ctx.variables, origin=origin
        )
        if isinstance(value, str):
            return value.strip().lower() not in _FALSE
        return bool(value)
