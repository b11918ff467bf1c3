"""Project files as pydantic models: find a project, load its config.yml, agents, workflows, tests, `.sql`.

```python
project = load_project(find_project_root(Path.cwd()))
agent = project.agent("agents/sql.agent.yml")
report = validate(project.root)
```
Every error is a `ConfigError` naming the file (relative to the project root), line, column and key;
several at once come as `ConfigErrors`.

Names load on first use: `oxy run agent.yml` builds the agent models, not the workflow ones.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from oxy.config._issues import ConfigErrors
    from oxy.config.agent import AgentConfig, DefaultAgentConfig, RoutingAgentConfig
    from oxy.config.agent_test import AgentTestFile
    from oxy.config.databases import DatabaseConfig
    from oxy.config.loader import (
        Project,
        find_project_root,
        load_agent,
        load_agent_test,
        load_project,
        load_workflow,
    )
    from oxy.config.models import ModelConfig
    from oxy.config.project import ProjectConfig
    from oxy.config.secrets import resolve_secret
    from oxy.config.sql_file import SqlFile, SqlFrontMatter, parse_sql_file
    from oxy.config.tools import ToolConfig
    from oxy.config.validation import SkippedFile, ValidationReport, validate
    from oxy.config.workflow import TaskConfig, WorkflowConfig

__all__ = [
    "AgentConfig",
    "AgentTestFile",
    "ConfigErrors",
    "DatabaseConfig",
    "DefaultAgentConfig",
    "ModelConfig",
    "Project",
    "ProjectConfig",
    "RoutingAgentConfig",
    "SkippedFile",
    "SqlFile",
    "SqlFrontMatter",
    "TaskConfig",
    "ToolConfig",
    "ValidationReport",
    "WorkflowConfig",
    "find_project_root",
    "load_agent",
    "load_agent_test",
    "load_project",
    "load_workflow",
    "parse_sql_file",
    "resolve_secret",
    "validate",
]

_MODULES = {
    "AgentConfig": "agent",
    "AgentTestFile": "agent_test",
    "ConfigErrors": "_issues",
    "DatabaseConfig": "databases",
    "DefaultAgentConfig": "agent",
    "ModelConfig": "models",
    "Project": "loader",
    "ProjectConfig": "project",
    "RoutingAgentConfig": "agent",
    "SkippedFile": "validation",
    "SqlFile": "sql_file",
    "SqlFrontMatter": "sql_file",
    "TaskConfig": "workflow",
    "ToolConfig": "tools",
    "ValidationReport": "validation",
    "WorkflowConfig": "workflow",
    "find_project_root": "loader",
    "load_agent": "loader",
    "load_agent_test": "loader",
    "load_project": "loader",
    "load_workflow": "loader",
    "parse_sql_file": "sql_file",
    "resolve_secret": "secrets",
    "validate": "validation",
}


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module 'oxy.config' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"oxy.config.{module}"), name)
    globals()[name] = value
    return value
