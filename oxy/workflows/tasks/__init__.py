"""One module per task type; `oxy.workflows.builder` picks the runner for a task's config."""

from oxy.workflows.tasks._agent import AgentTaskRunner
from oxy.workflows.tasks._conditional import ConditionalTaskRunner
from oxy.workflows.tasks._formatter import FormatterTaskRunner, UnsupportedTask
from oxy.workflows.tasks._loop import LoopTask
from oxy.workflows.tasks._sql import SqlTask
from oxy.workflows.tasks._subworkflow import SubWorkflowTask
from oxy.workflows.tasks._visualize import VisualizeTaskRunner

__all__ = [
    "AgentTaskRunner",
    "ConditionalTaskRunner",
    "FormatterTaskRunner",
    "LoopTask",
    "SqlTask",
    "SubWorkflowTask",
    "UnsupportedTask",
    "VisualizeTaskRunner",
]
