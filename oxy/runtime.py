"""What a run may use besides its input: the loaded project, its databases, the template renderer.

Built once per project per process (`Runtime.for_project`) and shared by every run; the execution
layer carries it opaquely in `ExecutionContext.services`, and `runtime_of(ctx)` gets it back typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from oxy.errors import ConfigError
from oxy.execution.context import ExecutionContext
from oxy.execution.templates import Renderer

if TYPE_CHECKING:
    from oxy.config import Project
    from oxy.config.databases import DatabaseConfig
    from oxy.config.models import ModelConfig
    from oxy.databases import Databases


@dataclass(frozen=True, kw_only=True)
class Runtime:
    project: Project
    databases: Databases
    renderer: Renderer

    @property
    def root(self) -> Path:
        return self.project.root

    @classmethod
    def for_project(cls, project: Project) -> Runtime:
        from oxy.databases import Databases
        from oxy.global_context import global_context

        databases = Databases(project.config.databases, project_root=project.root)
        renderer = Renderer(globals=global_context(project, databases))
        return cls(project=project, databases=databases, renderer=renderer)

    def database_config(self, name: str, *, file: str | None = None) -> DatabaseConfig:
        """The database called `name`; a `ConfigError` listing the known names if there is none."""
        config = self.project.config.database(name)
        if config is None:
            known = ", ".join(self.project.config.database_names) or "none"
            raise ConfigError(f"Database {name!r} not found in config.yml; known: {known}", file=file)
        return config

    def model_config(self, name: str, *, file: str | None = None) -> ModelConfig:
        """The model called `name`; a `ConfigError` listing the known names if there is none."""
        config = self.project.config.model(name)
        if config is None:
            known = ", ".join(self.project.config.model_names) or "none"
            raise ConfigError(f"Model {name!r} not found in config.yml; known: {known}", file=file)
        return config

    def default_database(self, *, file: str | None = None) -> str:
        """`defaults.database`, or the only database; otherwise a `ConfigError` saying how to pick one."""
        defaults = self.project.config.defaults
        if defaults is not None and defaults.database:
            return defaults.database
        names = self.project.config.database_names
        if len(names) == 1:
            return names[0]
        if not names:
            raise ConfigError("config.yml declares no databases; add one under `databases:`", file=file)
        raise ConfigError(
            f"no database given and config.yml sets no `defaults.database`; pass --database (one of: {', '.join(names)})",
            file=file,
        )

    def close(self) -> None:
        self.databases.close_all()


def runtime_of(ctx: ExecutionContext) -> Runtime:
    services = ctx.services
    if not isinstance(services, Runtime):
        raise TypeError(f"this step needs a project Runtime in ctx.services, got {type(services).__name__}")
    return services
