"""The agents and workflows a server offers, found once at startup.

An agent's name is its file name without `.agent.yml`; when two files share a name, each is known
by its path relative to the project root instead. Either form finds it. Workflows likewise.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from oxy.config import Project
from oxy.errors import OxyError
from oxy.serve._errors import ApiError

AGENT_SUFFIX = ".agent.yml"
WORKFLOW_SUFFIXES = (".workflow.yml", ".procedure.yml", ".automation.yml")


@dataclass(frozen=True, kw_only=True, slots=True)
class Entry:
    name: str
    path: str
    description: str
    kind: Literal["agent", "workflow"]
    type: str = "default"
    """Agents: `default` or `routing`."""
    variables: dict[str, Any] = field(default_factory=dict[str, Any])
    """Workflows: JSON Schema properties by variable name."""
    error: str | None = None
    """Why the file did not load; running it reports the same."""


def _stem(path: str, suffixes: tuple[str, ...]) -> str:
    name = path.rsplit("/", 1)[-1]
    for suffix in suffixes:
        if name.endswith(suffix):
            return name.removesuffix(suffix)
    return name


def _names(paths: list[str], suffixes: tuple[str, ...]) -> dict[str, str]:
    """name -> path; a name two files share is replaced by their paths."""
    counts = Counter(_stem(p, suffixes) for p in paths)
    return {(_stem(p, suffixes) if counts[_stem(p, suffixes)] == 1 else p): p for p in paths}


def _agent(project: Project, name: str, path: str) -> Entry:
    try:
        config = project.agent(path)
    except OxyError as exc:
        return Entry(name=name, path=path, description="", kind="agent", error=str(exc))
    return Entry(name=name, path=path, description=config.description, kind="agent", type=config.type)


def _workflow(project: Project, name: str, path: str) -> Entry:
    try:
        config = project.workflow(path)
    except OxyError as exc:
        return Entry(name=name, path=path, description="", kind="workflow", error=str(exc))
    variables = {key: dict(schema) for key, schema in (config.variables or {}).items()}
    return Entry(name=name, path=path, description=config.description, kind="workflow", variables=variables)


@dataclass(frozen=True, slots=True)
class Catalog:
    agents: dict[str, Entry]
    workflows: dict[str, Entry]

    @classmethod
    def scan(cls, project: Project) -> Catalog:
        agent_paths = project.glob(f"**/*{AGENT_SUFFIX}")
        workflow_paths = [p for suffix in WORKFLOW_SUFFIXES for p in project.glob(f"**/*{suffix}")]
        agents = {n: _agent(project, n, p) for n, p in _names(agent_paths, (AGENT_SUFFIX,)).items()}
        workflows = {
            n: _workflow(project, n, p) for n, p in _names(sorted(workflow_paths), WORKFLOW_SUFFIXES).items()
        }
        return cls(agents=agents, workflows=workflows)

    def agent(self, name: str) -> Entry:
        return _find(self.agents, name, "agent")

    def workflow(self, name: str) -> Entry:
        return _find(self.workflows, name, "workflow")


def _find(entries: dict[str, Entry], name: str, kind: str) -> Entry:
    found = entries.get(name) or next((e for e in entries.values() if e.path == name), None)
    if found is not None:
        return found
    known = ", ".join(sorted(entries)) or "none"
    raise ApiError(404, f"There is no {kind} {name!r}; known {kind}s: {known}.")
