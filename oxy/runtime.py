"""What a run may use besides its input: the loaded project, its databases, the template renderer.

Built once per project per process (`Runtime.for_project`) and shared by every run; the execution
layer carries it opaquely in `ExecutionContext.services`, and `runtime_of(ctx)` gets it back typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from oxy.execution.context import ExecutionContext
from oxy.execution.templates import Renderer

if TYPE_CHECKING:
    from oxy.config import Project
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

    def close(self) -> None:
        self.databases.close_all()


def runtime_of(ctx: ExecutionContext) -> Runtime:
    services = ctx.services
    if not isinstance(services, Runtime):
        raise TypeError(f"this step needs a project Runtime in ctx.services, got {type(services).__name__}")
    return services
