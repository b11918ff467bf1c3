"""The names `oxy.config` exports are its public API; changing them is a decision, not an accident."""

from __future__ import annotations

import oxy.config


def test_exported_names() -> None:
    assert oxy.config.__all__ == [
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
    assert oxy.config.__all__ == sorted(oxy.config.__all__)
    for name in oxy.config.__all__:
        assert getattr(oxy.config, name) is not None
