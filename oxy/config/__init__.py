"""Project files as pydantic models: find a project, load its config.yml, agents, workflows, tests, `.sql`.

```python
project = load_project(find_project_root(Path.cwd()))
agent = project.agent("agents/sql.agent.yml")
report = validate(project.root)
```
Every error is a `ConfigError` naming the file (relative to the project root), line, column and key;
several at once come as `ConfigErrors`.
"""

from __future__ import annotations

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
