"""`execute_sql`: render `sql_query` or the `sql_file` (its path may be a template too), run it."""

from __future__ import annotations

from oxy.config import parse_sql_file
from oxy.config.workflow import ExecuteSqlTask
from oxy.errors import ConfigError
from oxy.execution.context import ExecutionContext
from oxy.execution.runtime import RuntimeHandle
from oxy.execution.sql import ExecuteSql, SqlRequest
from oxy.execution.sql_literal import SQL_DIALECT_VARIABLE
from oxy.execution.templates import TemplateOrigin
from oxy.workflows._registry import task_type
from oxy.workflows._task import Task, TaskCall, TaskOutcome
from oxy.workflows._templating import arender_value, exact_expression

_EXECUTE = ExecuteSql()


@task_type("execute_sql")
class SqlTask(Task):
    """The output is the result table; `{{ t }}`, `{{ t.col }}`, `{{ t.col[0] }}` in later templates."""

    config: ExecuteSqlTask
    text_output = False

    async def run(self, ctx: ExecutionContext, call: TaskCall) -> TaskOutcome:
        config = self.config
        runtime = ctx.runtime
        dialect = runtime.database_config(config.database, file=self.file).dialect
        template, origin = await self._template(runtime, ctx)
        variables = dict(ctx.variables)
        if config.variables:
            given = await arender_value(
                runtime.renderer,
                config.variables,
                ctx.variables,
                origin=self.origins.of((*self.at, "variables")),
            )
            variables.update(given)
        variables[SQL_DIALECT_VARIABLE] = dialect  # last: no variable can change how sql_literal quotes
        sql = await runtime.renderer.arender(template, variables, origin=origin)
        if config.variables and exact_expression(template) is not None and ("{{" in sql or "{%" in sql):
            # `sql_query: "{{ sql }}"` where the `sql` task wrote a query with `{{ grouping_value }}` in it.
            # Only a template that is exactly one expression is rendered twice: in any other, a second
            # pass would evaluate template syntax that a variable's value smuggled in.
            sql = await runtime.renderer.arender(sql, variables, origin=origin)
        request = SqlRequest(sql=sql, database=config.database, origin=origin, render=False)
        table = await _EXECUTE.execute(ctx, request)
        return TaskOutcome(output=table, sql=sql)

    async def _template(self, runtime: RuntimeHandle, ctx: ExecutionContext) -> tuple[str, TemplateOrigin]:
        config = self.config
        if config.sql_query is not None:
            return config.sql_query, self.origins.of((*self.at, "sql_query"))
        assert config.sql_file is not None  # the config model requires one of the two

        ref_origin = self.origins.of((*self.at, "sql_file"))
        ref = await runtime.renderer.arender(config.sql_file, ctx.variables, origin=ref_origin)
        path = runtime.project.path(ref, what="sql_file", file=self.file, line=ref_origin.line)
        rel = runtime.project.relative(path)
        if not path.is_file():
            raise ConfigError(
                f"sql_file {ref!r} not found (paths are relative to the project root)",
                file=self.file,
                line=ref_origin.line,
            )
        sql_file = parse_sql_file(path, file=rel)
        text = path.read_text(encoding="utf-8")
        return sql_file.sql, TemplateOrigin(file=rel, line=_body_line(text, sql_file.sql))


def _body_line(text: str, body: str) -> int:
    return text[: len(text) - len(body)].count("\n") + 1 if text.endswith(body) else 1
