"""Find a project, load its config.yml, and load single agent, workflow and test files on demand.

Loading is on the cold-start path of `oxy run`: only config.yml and the files asked for are read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from oxy.config._issues import ConfigErrors, unknown_name
from oxy.config._parse import parse_agent, parse_agent_test, parse_config, parse_workflow
from oxy.config._paths import confine, confine_glob
from oxy.config._yaml import YamlDocument, load_yaml
from oxy.config.project import ProjectConfig
from oxy.config.refs import (
    Findings,
    check_agent,
    check_agent_test,
    check_config,
    check_config_names,
    check_workflow,
)
from oxy.errors import ConfigError

if TYPE_CHECKING:
    from oxy.config.agent import AgentConfig
    from oxy.config.agent_test import AgentTestFile
    from oxy.config.databases import DatabaseConfig
    from oxy.config.models import ModelConfig
    from oxy.config.workflow import WorkflowConfig

__all__ = [
    "CONFIG_FILE",
    "Project",
    "find_project_root",
    "load_agent",
    "load_agent_test",
    "load_project",
    "load_workflow",
]

CONFIG_FILE = "config.yml"


@dataclass(frozen=True)
class Project:
    """A loaded project: its root folder and config.yml; agents and workflows load (once) when asked for."""

    root: Path
    config: ProjectConfig
    _loaded: dict[tuple[str, str], Any] = field(
        default_factory=dict[tuple[str, str], Any], repr=False, compare=False
    )

    def path(
        self, ref: str | Path, *, what: str = "path", file: str | None = None, line: int | None = None
    ) -> Path:
        """A path named in a project file (relative to the root, or absolute inside it), resolved.

        It must lie inside the root, symbolic links followed: else a `ConfigError` naming `what` (and
        `file`, `line` where the path was written).
        """
        return confine(self.root, ref, what=what, file=file, line=line)

    def relative(self, path: str | Path) -> str:
        """`path` relative to the root, POSIX style, as errors name files (it must lie inside the root)."""
        return self.path(path).relative_to(self.root.resolve()).as_posix()

    def glob(self, pattern: str) -> list[str]:
        """Files matching `pattern` (relative to the root), as sorted root-relative POSIX paths.

        Hidden files and folders are left out, as `oxy validate` leaves them out, and so are links that
        lead outside the root.
        """
        found: list[str] = []
        root = self.root.resolve()
        for path in confine_glob(root, pattern, what="pattern", strict=False):
            rel = path.relative_to(root).as_posix()
            if not any(part.startswith(".") for part in rel.split("/")):
                found.append(rel)
        return sorted(found)

    def database(self, name: str | None = None) -> DatabaseConfig:
        """The database `name`, or the default one (`defaults.database`, else the only one)."""
        names = self.config.database_names
        if name is None:
            default = self.config.defaults.database if self.config.defaults is not None else None
            if default is None and len(names) == 1:
                default = names[0]
            if default is None:
                raise ConfigError(
                    f"no database named and no default; set defaults.database in config.yml (known: {', '.join(names) or 'none'})",
                    file=CONFIG_FILE,
                )
            name = default
        found = self.config.database(name)
        if found is None:
            raise ConfigError(unknown_name("Database", name, names), file=CONFIG_FILE)
        return found

    def model(self, name: str) -> ModelConfig:
        """The model called `name` in config.yml."""
        found = self.config.model(name)
        if found is None:
            raise ConfigError(unknown_name("Model", name, self.config.model_names), file=CONFIG_FILE)
        return found

    def agent(self, ref: str | Path) -> AgentConfig:
        """The agent file `ref` (relative to the root), loaded once."""
        key = ("agent", self.relative(ref))
        if key not in self._loaded:
            self._loaded[key] = load_agent(ref, self)
        return self._loaded[key]

    def workflow(self, ref: str | Path) -> WorkflowConfig:
        """The workflow file `ref` (relative to the root), loaded once."""
        key = ("workflow", self.relative(ref))
        if key not in self._loaded:
            self._loaded[key] = load_workflow(ref, self)
        return self._loaded[key]


def find_project_root(start: Path) -> Path:
    """The nearest folder at or above `start` that holds a config.yml."""
    here = start.resolve()
    if here.is_file():
        here = here.parent
    for folder in (here, *here.parents):
        if (folder / CONFIG_FILE).is_file():
            return folder
    raise ConfigError(
        f"no {CONFIG_FILE} found in {here} or any folder above it; run `oxy make` to create a project, "
        "or pass --project DIR"
    )


def load_project(root: Path) -> Project:
    """Read `root/config.yml`. Raises `ConfigErrors` listing every problem in it."""
    root = root.resolve()
    if not (root / CONFIG_FILE).is_file():
        raise ConfigError(
            f"no {CONFIG_FILE} in {root}; run `oxy make` to create a project there, or pass --project DIR"
        )
    doc = load_yaml(root / CONFIG_FILE, file=CONFIG_FILE)
    try:
        config = parse_config(doc)
    except ConfigErrors as exc:
        raise ConfigErrors([*exc.errors, *check_config_names(doc).errors]) from None
    _raise_errors(check_config(config, doc, root))
    return Project(root=root, config=config)


def load_agent(path: str | Path, project: Project) -> AgentConfig:
    """Load and check one agent file; `path` is relative to the project root, or absolute."""
    doc = _read(path, project)
    agent = parse_agent(doc)
    _raise_errors(check_agent(agent, doc, project.root, project.config))
    if agent.name is None:
        agent = agent.model_copy(update={"name": _stem(doc.file, ".agent.yml")})
    return agent


def load_workflow(path: str | Path, project: Project) -> WorkflowConfig:
    """Load and check one workflow, procedure or automation file."""
    doc = _read(path, project)
    workflow = parse_workflow(doc)
    _raise_errors(check_workflow(workflow, doc, project.root, project.config))
    if workflow.name is None:
        workflow = workflow.model_copy(
            update={"name": _stem(doc.file, ".workflow.yml", ".procedure.yml", ".automation.yml")}
        )
    return workflow


def load_agent_test(path: str | Path, project: Project) -> AgentTestFile:
    """Load and check one `*.agent.test.yml`; a missing target is an error here, since the test must run it."""
    doc = _read(path, project)
    test = parse_agent_test(doc)
    found = check_agent_test(test, doc, project.root, project.config)
    _raise_errors(Findings(errors=[*found.errors, *(w for w in found.warnings if w.key == "target")]))
    return test


def _read(path: str | Path, project: Project) -> YamlDocument:
    return load_yaml(project.path(path, what="file"), file=project.relative(path))


def _raise_errors(found: Findings) -> None:
    if found.errors:
        raise ConfigErrors(found.errors)


def _stem(file: str, *suffixes: str) -> str:
    name = file.rsplit("/", 1)[-1]
    for suffix in suffixes:
        if name.endswith(suffix):
            return name.removesuffix(suffix)
    return name
