"""Workspace tools: files, shell, background tasks, web and language servers under a folder, behind
permission rules (`type: workspace`)."""

from oxy.tools.workspace.toolset import WorkspaceToolset

__all__ = ["WorkspaceToolset"]
