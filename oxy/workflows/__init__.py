"""Workflows: build a workflow file into an executable, run it, record it, resume it.

```python
exe = build_workflow(project.workflow(ref), file=ref, runtime=runtime, agents=agent_for)
result = await run_executable(exe, {"fruit": "apple"}, target=ref, runtime=runtime)
result.output["report"]  # each top-level task's output by name
```
`run_workflow_file` runs one as a recorded run, which `retry=True` can resume. Names import on
first use, so `oxy run query.sql` (which needs only `oxy.execution.sql`) builds none of this.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from oxy.databases.table import TableOutput
    from oxy.workflows._task import TaskFailed
    from oxy.workflows.builder import WorkflowExecutable, build_workflow
    from oxy.workflows.journal import Journal, RunRecord, StoreTaskOutputs, TaskOutputStore
    from oxy.workflows.outputs import ChartOutput, ConsistencyOutput, LoopOutput
    from oxy.workflows.run import run_workflow_file
    from oxy.workflows.variables import resolve_variables

__all__ = [
    "ChartOutput",
    "ConsistencyOutput",
    "Journal",
    "LoopOutput",
    "RunRecord",
    "StoreTaskOutputs",
    "TableOutput",
    "TaskFailed",
    "TaskOutputStore",
    "WorkflowExecutable",
    "build_workflow",
    "resolve_variables",
    "run_workflow_file",
]

_MODULES = {
    "ChartOutput": "outputs",
    "ConsistencyOutput": "outputs",
    "Journal": "journal",
    "LoopOutput": "outputs",
    "RunRecord": "journal",
    "StoreTaskOutputs": "journal",
    "TableOutput": "oxy.databases.table",
    "TaskFailed": "_task",
    "TaskOutputStore": "journal",
    "WorkflowExecutable": "builder",
    "build_workflow": "builder",
    "resolve_variables": "variables",
    "run_workflow_file": "run",
}


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module 'oxy.workflows' has no attribute {name!r}")
    full = module if module.startswith("oxy.") else f"oxy.workflows.{module}"
    value = getattr(importlib.import_module(full), name)
    globals()[name] = value
    return value
