"""`type: retrieval`: the model searches the project's indexed files with one argument, `query`.

The index is what `oxy build` made for the tool's `src` and embedder (`oxy.retrieval`). The model
gets the `top_k` nearest chunks, each with its source file, lines and score. With no index the tool
says to run `oxy build` (or, with `auto_build: true`, builds it first); with an index older than
its files it still answers, and says which files changed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import anyio
from pydantic import Field

from oxy.errors import ToolError
from oxy.execution.context import ExecutionContext
from oxy.retrieval.build import IndexSpec, build_index, current_stamps, retrieval_spec
from oxy.retrieval.index import Hit, VectorIndex
from oxy.tools.base import FunctionTool, Tool
from oxy.tools.registry import ToolBuild, tool_type

if TYPE_CHECKING:
    from oxy.config.tools import RetrievalTool

QueryArgument = Annotated[str, Field(description="What to look for, in words.")]


def format_hits(hits: list[Hit]) -> str:
    """What the model reads: each chunk under its source, lines and score, best first."""
    if not hits:
        return "Nothing in the index matches."
    return "\n\n".join(
        f"[{i}] {h.source}:{h.start_line}-{h.end_line} (score {h.score:.2f})\n{h.text}"
        for i, h in enumerate(hits, 1)
    )


_OPENED: dict[Path, tuple[int, VectorIndex]] = {}


def _open(folder: Path) -> VectorIndex | None:
    """The index in `folder`, read once while `oxy build` has not rewritten it."""
    try:
        stamp = (folder / "entries.json").stat().st_mtime_ns
    except OSError:
        return None
    cached = _OPENED.get(folder)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    index = VectorIndex.open(folder)
    if index is not None:
        _OPENED[folder] = (stamp, index)
    return index


_BUILDING: dict[Path, anyio.Lock] = {}
"""One build at a time per index folder, for every tool of the process that builds on first use."""


def retrieval_tool(
    spec: IndexSpec, *, name: str, top_k: int, auto_build: bool, description: str | None = None
) -> Tool:

    async def retrieval(ctx: ExecutionContext, query: QueryArgument) -> str:
        project = ctx.runtime.project
        folder = spec.folder(project.root)
        async with _BUILDING.setdefault(folder, anyio.Lock()):  # one build at a time
            index = await anyio.to_thread.run_sync(_open, folder)
            if index is None:
                if not auto_build:
                    raise ToolError(
                        f"the retrieval index of {', '.join(spec.src)} has not been built: run `oxy build` "
                        "in the project (or set `auto_build: true` on the tool)"
                    )
                await build_index(project, spec)
                index = await anyio.to_thread.run_sync(_open, folder)
                if index is None:
                    return "Nothing in the index matches: its files hold no text."
        stale = index.stale(await anyio.to_thread.run_sync(current_stamps, project.root, spec))
        embedder = spec.embedder(project)
        if index.embedder != embedder.name:
            raise ToolError(
                f"the retrieval index of {', '.join(spec.src)} was built with another embedder "
                f"({index.embedder}): run `oxy build` again"
            )
        vector = await embedder.embed([query])
        hits = index.search(vector[0], top_k)
        text = format_hits(hits)
        if stale:
            shown = ", ".join(stale[:5]) + (f" and {len(stale) - 5} more" if len(stale) > 5 else "")
            text = f"(The index is older than {shown}: run `oxy build` to update it.)\n\n{text}"
        return text

    return FunctionTool(
        retrieval,
        name=name,
        description=description
        or f"Search the project's documents ({', '.join(spec.src)}) for passages about a query; returns the "
        f"{top_k} closest, each with its file and lines.",
    )


@tool_type("retrieval")
def _build(config: RetrievalTool, build: ToolBuild) -> Tool:
    spec = retrieval_spec(config, used_by=f"{build.file} › {config.name}")
    return retrieval_tool(
        spec,
        name=config.name,
        top_k=config.top_k,
        auto_build=config.auto_build,
        description=config.description,
    )
