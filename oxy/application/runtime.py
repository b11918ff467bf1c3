"""`Runtime`: a loaded project ready to run, shared by every run of it in the process.

```python
runtime = Runtime.for_project(load_project(root), models={"gpt": my_client}, tools=[lookup_order])
```

It is the execution layer's `RuntimeHandle` (project, databases, renderer, model clients, run store)
plus what belongs to the application: toolsets given to every agent of the project (`toolsets=`, or
plain Python functions as `tools=`). `await runtime.aclose()` closes what runs left open for the
process (process-lifetime toolsets), the databases and the run store.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from oxy.databases import Databases
from oxy.execution.global_context import global_context
from oxy.execution.runtime import RuntimeHandle
from oxy.execution.templates import Renderer
from oxy.tools.python_tool import python_tool
from oxy.tools.toolset import FunctionToolset, Toolset

if TYPE_CHECKING:
    from oxy.config import Project
    from oxy.models.client import ModelClient

__all__ = ["Runtime"]


@dataclass(kw_only=True, eq=False)
class Runtime(RuntimeHandle):
    toolsets: tuple[Toolset, ...] = field(default=())
    """Offered to every default agent of the project, after its own `tools:` (tests, embedding)."""

    @classmethod
    def for_project(
        cls,
        project: Project,
        *,
        models: Mapping[str, ModelClient] | None = None,
        toolsets: Sequence[Toolset] = (),
        tools: Sequence[Callable[..., Any]] = (),
        stdio_mcp: bool = True,
    ) -> Runtime:
        """The runtime of `project`. `models` replaces config.yml's clients by model name; `toolsets`
        and `tools` (Python functions, sync or async; signature and docstring become the schema) are
        offered to every default agent; `stdio_mcp=False` refuses to start stdio MCP servers."""

        databases = Databases(project.config.databases, project_root=project.root)
        renderer = Renderer(globals=global_context(project, databases))
        extra = list(toolsets)
        if tools:
            extra.append(FunctionToolset([python_tool(f) for f in tools]))
        return cls(
            project=project,
            databases=databases,
            renderer=renderer,
            models=dict(models or {}),
            toolsets=tuple(extra),
            stdio_mcp=stdio_mcp,
        )
