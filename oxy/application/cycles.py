"""Cycle detection: an agent must not reach itself through agent/workflow tools, routes or tasks.

Runs when an agent is built, over the configs alone (each file is loaded once, through the project's
cache), so a cycle is a `ConfigError` naming it rather than a run that never ends:

    agents/a.agent.yml: reaches itself through ...: agents/a.agent.yml → agents/b.agent.yml → agents/a.agent.yml; ...
"""

from __future__ import annotations

from oxy.agents.routes import file_kind, resolve_routes
from oxy.config.agent import RoutingAgentConfig
from oxy.config.loader import Project
from oxy.config.walk import walk_tasks
from oxy.errors import ConfigError

__all__ = ["check_no_cycles", "references"]


def check_no_cycles(project: Project, file: str) -> None:
    """Raise a `ConfigError` naming the first cycle reachable from `file` (project-relative)."""
    done: set[str] = set()
    path: list[str] = []

    def visit(node: str) -> None:
        if node in path:
            cycle = [*path[path.index(node) :], node]
            raise ConfigError(
                f"reaches itself through agent/workflow tools, routes or tasks: {' → '.join(cycle)}; "
                "remove one of these references",
                file=cycle[0],
            )
        if node in done:
            return
        path.append(node)
        for target in references(project, node):
            visit(target)
        path.pop()
        done.add(node)

    visit(file)


def references(project: Project, file: str) -> list[str]:
    """The agent and workflow files `file` runs directly (existing files only, project-relative)."""
    kind = file_kind(file)
    refs: list[str]
    if kind == "agent":
        config = project.agent(file)
        if isinstance(config, RoutingAgentConfig):
            routes, _ = resolve_routes(config, project=project, file=file)
            refs = [route.file for route in routes if route.kind != "sql"]
            refs.extend([config.route_fallback] if config.route_fallback else [])
        else:
            refs = [ref.ref for tool in config.tools for ref in tool.file_refs()]
    elif kind == "workflow":
        tasks = walk_tasks(project.workflow(file).tasks)
        refs = [ref.ref for task, _ in tasks for ref in task.file_refs() if ref.kind != "sql"]
    else:
        return []
    return [
        project.relative(ref)
        for ref in dict.fromkeys(refs)
        if "{{" not in ref and "{%" not in ref and project.path(ref).is_file() and file_kind(ref) is not None
    ]
