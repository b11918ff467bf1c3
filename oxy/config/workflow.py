"""`*.workflow.yml`, `*.procedure.yml`, `*.automation.yml`: variables and a list of tasks run in order.

Each task's output is available to later tasks' templates by the task's name. Oxy's semantic-layer,
Omni and Looker tasks are accepted so Oxy projects load; `oxy.workflows` says when one is not run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal, Self

from pydantic import Field, model_validator

from oxy.config._base import StrictModel
from oxy.config._common import RouteRetrievalConfig, Variables
from oxy.config._yaml import DataPath
from oxy.config.evals import EvalConfig
from oxy.config.walk import FileRef

__all__ = [
    "AgentTask",
    "Condition",
    "ConditionalTask",
    "ExecuteSqlTask",
    "FormatterTask",
    "LookerQueryTask",
    "LoopSequentialTask",
    "OmniQueryTask",
    "SemanticQueryTask",
    "TaskCache",
    "TaskConfig",
    "TaskExport",
    "VisualizeTask",
    "WorkflowConfig",
    "WorkflowTask",
]


class TaskCache(StrictModel):
    """Reuse the output written at `path` instead of running the task again."""

    enabled: bool = False
    path: str


class TaskExport(StrictModel):
    """Write the task's output to `path` (a template) in `format`."""

    format: Literal["sql", "csv", "json", "txt", "docx"]
    path: str


class _Task(StrictModel):
    name: str = Field(description="Later tasks read this task's output by this name.")
    cache: TaskCache | None = None
    mode: Literal["client", "server"] = Field(
        default="client", description="Oxy data apps only; ignored here."
    )

    def children(self) -> Sequence[tuple[DataPath, Sequence[TaskConfig]]]:
        """The task lists nested in this one, each with its path below the task (`("tasks",)`)."""
        return ()

    def file_refs(self) -> Sequence[FileRef]:
        """The project files this task names (agents, workflows, SQL files)."""
        return ()


class _ExportingTask(_Task):
    export: TaskExport | None = None


class AgentTask(_ExportingTask):
    """Ask an agent; its final answer is the task's output."""

    type: Literal["agent"]
    agent_ref: str = Field(description="The agent file, relative to the project root.")
    prompt: str
    variables: dict[str, Any] | None = None
    retry: int = Field(default=1, ge=0)
    consistency_run: int = Field(default=1, ge=1)
    consistency_prompt: str | None = None

    def file_refs(self) -> Sequence[FileRef]:
        return (FileRef(key="agent_ref", ref=self.agent_ref, kind="agent"),)


class ExecuteSqlTask(_ExportingTask):
    """Run SQL (a file or inline, both templates) on a database; the table is the task's output."""

    type: Literal["execute_sql"]
    database: str = Field(description="A database name from config.yml.")
    sql_file: str | None = Field(
        default=None, description="A .sql file relative to the project root (a template)."
    )
    sql_query: str | None = Field(default=None, description="Inline SQL (a template).")
    variables: dict[str, str] | None = Field(default=None, description="Template values for the SQL.")
    dry_run_limit: int | None = Field(default=None, ge=0)
    warehouse: str | None = Field(
        default=None, description="Ignored: Oxy's old name for a database; use `database`."
    )

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.sql_file is None) == (self.sql_query is None):
            given = "both" if self.sql_file is not None else "neither"
            raise ValueError(
                f"an execute_sql task needs exactly one of 'sql_file' or 'sql_query'; got {given}"
            )
        return self

    def file_refs(self) -> Sequence[FileRef]:
        return (FileRef(key="sql_file", ref=self.sql_file, kind="sql"),) if self.sql_file is not None else ()


class FormatterTask(_ExportingTask):
    """Render a template; the text is the task's output."""

    type: Literal["formatter"]
    template: str


class LoopSequentialTask(_Task):
    """Run `tasks` once per value; `concurrency` iterations may run at once (outputs keep their order)."""

    type: Literal["loop_sequential"]
    values: str | list[Any] = Field(description="A list, or a template that renders to one.")
    tasks: list[TaskConfig]
    concurrency: int = Field(default=1, ge=1)

    def children(self) -> Sequence[tuple[DataPath, Sequence[TaskConfig]]]:
        return ((("tasks",), self.tasks),)


class WorkflowTask(_ExportingTask):
    """Run another workflow; its outputs are the task's output."""

    type: Literal["workflow"]
    src: str = Field(description="The workflow file, relative to the project root.")
    variables: dict[str, Any] | None = None

    def file_refs(self) -> Sequence[FileRef]:
        return (FileRef(key="src", ref=self.src, kind="workflow"),)


class Condition(StrictModel):
    if_: str = Field(alias="if", description="A template expression; the first true one runs its tasks.")
    tasks: list[TaskConfig]


class ConditionalTask(_Task):
    """Run the tasks of the first condition that holds, else the `else` tasks."""

    type: Literal["conditional"]
    conditions: list[Condition]
    else_: list[TaskConfig] | None = Field(default=None, alias="else")

    def children(self) -> Sequence[tuple[DataPath, Sequence[TaskConfig]]]:
        branches: list[tuple[DataPath, Sequence[TaskConfig]]] = [
            (("conditions", i, "tasks"), c.tasks) for i, c in enumerate(self.conditions)
        ]
        if self.else_ is not None:
            branches.append((("else",), self.else_))
        return branches


class VisualizeTask(_ExportingTask):
    """A chart (a Vega-Lite spec) of a table: `data` names it, else the previous task's output."""

    type: Literal["visualize"]
    prompt: str = Field(default="", description="What the chart shows; its title when `title` is not set.")
    data: str | None = Field(
        default=None,
        description="oxy: the table to chart, a task name or `{{ expr }}`; defaults to the previous task's output.",
    )
    chart_type: Literal["bar", "line", "point", "area", "arc"] | None = Field(
        default=None, description="oxy: the mark; `bar` by default, `line` when x is a date."
    )
    x: str | None = Field(
        default=None, description="oxy: the x column; defaults to the first non-numeric one."
    )
    y: str | None = Field(default=None, description="oxy: the y column; defaults to the first numeric one.")
    color: str | None = Field(default=None, description="oxy: a column to color (and split) by.")
    title: str | None = Field(default=None, description="oxy: the chart's title.")


class SemanticQueryTask(_ExportingTask):
    """Oxy semantic layer query (not run by this engine yet)."""

    type: Literal["semantic_query"]
    topic: str | None = None
    dimensions: list[str] = Field(default_factory=list[str])
    measures: list[str] = Field(default_factory=list[str])
    filters: list[dict[str, Any]] = Field(default_factory=list[dict[str, Any]])
    orders: list[dict[str, Any]] = Field(default_factory=list[dict[str, Any]])
    time_dimensions: list[dict[str, Any]] = Field(default_factory=list[dict[str, Any]])
    limit: int | None = Field(default=None, ge=0)
    offset: int | None = Field(default=None, ge=0)
    variables: dict[str, Any] | None = None


class OmniQueryTask(_ExportingTask):
    """Omni query (not run by this engine yet)."""

    type: Literal["omni_query"]
    integration: str
    topic: str
    fields: list[str]
    limit: int | None = Field(default=None, ge=0)
    sorts: dict[str, Literal["asc", "desc"]] | None = None


class LookerQueryTask(_ExportingTask):
    """Looker query (not run by this engine yet)."""

    type: Literal["looker_query"]
    integration: str
    model: str
    explore: str
    fields: list[str]
    filters: dict[str, str] | None = None
    filter_expression: str | None = None
    sorts: list[dict[str, Any]] | None = None
    limit: int | None = None


TaskConfig = Annotated[
    AgentTask
    | ExecuteSqlTask
    | FormatterTask
    | LoopSequentialTask
    | WorkflowTask
    | ConditionalTask
    | VisualizeTask
    | SemanticQueryTask
    | OmniQueryTask
    | LookerQueryTask,
    Field(discriminator="type"),
]
"""One task, by `type`."""


class WorkflowConfig(StrictModel):
    """A workflow file."""

    name: str | None = Field(default=None, description="Defaults to the file name without its suffix.")
    description: str = ""
    variables: Variables | None = Field(
        default=None, description="Inputs, as JSON Schemas (draft 7) by name."
    )
    tasks: list[TaskConfig]
    tests: list[EvalConfig] = Field(default_factory=list[EvalConfig])
    retrieval: RouteRetrievalConfig | None = None
    consistency_prompt: str | None = None


for _model in (LoopSequentialTask, Condition, ConditionalTask, WorkflowConfig):
    _model.model_rebuild()
