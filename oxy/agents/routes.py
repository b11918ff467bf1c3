"""What a routing agent's `routes` globs point at: agents, workflows and `.sql` files, and what is skipped.

Routes that name an integration (`omni::topic`), a semantic topic (`*.topic.yml`), or a file of another
kind cannot run here; they come back as `SkippedRoute`s with the reason, so the agent can log them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from oxy.config.agent import RoutingAgentConfig
from oxy.config.loader import Project

__all__ = ["AGENT_SUFFIX", "WORKFLOW_SUFFIXES", "Route", "SkippedRoute", "file_kind", "resolve_routes"]

AGENT_SUFFIX = ".agent.yml"
WORKFLOW_SUFFIXES = (".workflow.yml", ".procedure.yml", ".automation.yml")

RouteKind = Literal["agent", "workflow", "sql"]


@dataclass(frozen=True, slots=True)
class Route:
    """One file a routing agent may hand the question to; `file` is relative to the project root."""

    kind: RouteKind
    file: str


@dataclass(frozen=True, slots=True)
class SkippedRoute:
    """A `routes` entry (or a file it matched) that does not become a tool, and why."""

    route: str
    reason: str

    def __str__(self) -> str:
        return f"route {self.route!r} skipped: {self.reason}"


def file_kind(file: str) -> RouteKind | None:
    """`agent`, `workflow` or `sql` by the file's suffix; None for anything else."""
    if file.endswith(AGENT_SUFFIX):
        return "agent"
    if file.endswith(WORKFLOW_SUFFIXES):
        return "workflow"
    if file.endswith(".sql"):
        return "sql"
    return None


def resolve_routes(
    config: RoutingAgentConfig, *, project: Project, file: str
) -> tuple[list[Route], list[SkippedRoute]]:
    """The routes of the routing agent in `file`, in the order its globs list them (each file once)."""
    routes: list[Route] = []
    skipped: list[SkippedRoute] = []
    seen: set[str] = {file}
    for pattern in config.routes:
        if "::" in pattern:
            skipped.append(SkippedRoute(pattern, "integration routes (Omni, Looker) do not run in oxy yet"))
            continue
        matched = project.glob(pattern)
        if not matched:
            skipped.append(SkippedRoute(pattern, "the glob matches no file under the project root"))
        for path in matched:
            if path in seen:
                continue  # the agent itself, or a file an earlier glob matched
            seen.add(path)
            kind = file_kind(path)
            if kind is not None:
                routes.append(Route(kind, path))
            elif path.endswith((".topic.yml", ".view.yml")):
                skipped.append(SkippedRoute(path, "semantic-layer topics and views do not run in oxy yet"))
            else:
                skipped.append(SkippedRoute(path, "not an agent, a workflow or a .sql file"))
    return routes, skipped
