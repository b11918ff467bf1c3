"""`type: workflow` tools (and workflow routes): the model runs a workflow with arguments.

The arguments are the workflow's variables, described by the JSON Schemas the config gives
(`variables:` on the tool, else the workflow's own). Running the workflow belongs to `oxy.workflows`,
reached through the `RunWorkflow` callable the application layer hands in (`ToolBuild.delegates`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from oxy.databases.table import TableOutput
from oxy.errors import ToolError
from oxy.execution.context import ExecutionContext
from oxy.tools.base import Tool, json_arguments
from oxy.tools.registry import RunWorkflow, ToolBuild, tool_type
from oxy.tools.sql import table_for_model

if TYPE_CHECKING:
    from oxy.config.tools import WorkflowTool

__all__ = ["RunWorkflow", "WorkflowAsTool", "output_text"]


class WorkflowAsTool(Tool):
    """A tool whose arguments are a workflow's variables and whose result is one task's output."""

    def __init__(
        self, *, name: str, description: str, variables: Mapping[str, Any], run: RunWorkflow
    ) -> None:
        self.name = name
        self.description = description
        self._run = run
        self._variables = dict(variables)
        self._required = sorted(k for k, schema in self._variables.items() if not _has_default(schema))
        self._schema: dict[str, Any] = {
            "type": "object",
            "properties": self._variables,
            "required": self._required,
            "additionalProperties": False,
        }

    def parameters(self) -> Mapping[str, Any]:
        return self._schema

    async def call(self, ctx: ExecutionContext, arguments: str) -> str:
        values = json_arguments(arguments)
        unknown = sorted(set(values) - set(self._variables))
        if unknown:
            known = ", ".join(sorted(self._variables)) or "none"
            raise ToolError(
                f"Unknown argument(s) {', '.join(map(repr, unknown))}; the arguments are: {known}."
            )
        missing = [k for k in self._required if k not in values]
        if missing:
            raise ToolError(f"Missing argument(s): {', '.join(map(repr, missing))}.")
        return output_text(await self._run(ctx, values), max_rows=ctx.limits.model_rows)


def output_text(value: Any, *, max_rows: int) -> str:
    """A task's output as the model reads it: a table as markdown, text as is, the rest as JSON."""

    if isinstance(value, TableOutput):
        return table_for_model(value, max_rows=max_rows)
    if isinstance(value, str):
        return value
    text = getattr(value, "text", None)
    if isinstance(text, str):  # an agent's answer
        return text
    if isinstance(value, list | tuple):
        items: list[Any] = list(value)  # pyright: ignore[reportUnknownArgumentType]
        return "\n\n".join(output_text(item, max_rows=max_rows) for item in items)
    try:
        return json.dumps(value, default=str, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(value)


def _has_default(schema: Any) -> bool:
    return isinstance(schema, dict) and "default" in schema


@tool_type("workflow")
def _build(config: WorkflowTool, build: ToolBuild) -> Tool:
    delegates = build.delegates
    ref = config.workflow_ref
    return WorkflowAsTool(
        name=config.name,
        description=config.description or delegates.workflow_description(ref),
        variables=config.variables if config.variables is not None else delegates.workflow_variables(ref),
        run=delegates.run_workflow(ref, output_task=config.output_task_ref),
    )
