"""Long-term memory: `remember` and `recall`, backed by the run store and vectors, per tenant and user.

What the model remembers is stored with the tenant and the user of the run (`Caller`: the API key's
tenant and the request's user in `oxy serve`; the local tenant and the login name from the CLI), with its
vector. `recall` searches only that tenant's and that user's memories (an exact vector search over
them), so nothing leaks across tenants or users. `{{ memory.relevant }}` in an agent's instructions
is the memories nearest the question. `oxy memory list|forget` and `/api/memories` show and delete
them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import anyio
import numpy as np
from pydantic import Field

from oxy.errors import ToolError
from oxy.execution.context import ExecutionContext
from oxy.models.embeddings import Embedder, embedder_for
from oxy.storage import LOCAL_TENANT, Memory
from oxy.tools.base import FunctionTool
from oxy.tools.registry import ToolBuild, tool_type
from oxy.tools.toolset import FunctionToolset, Toolset

if TYPE_CHECKING:
    from oxy.config.tools import MemoryTool

__all__ = ["LongTermMemory", "memory_toolset", "scope"]

MAX_CHARS = 2000
"""A memory longer than this is refused: memories are facts, not documents."""

Fact = Annotated[
    str, Field(description="One fact about the user or their work to keep for later conversations.")
]
Query = Annotated[str, Field(description="What to look for among the remembered facts.")]


def scope(ctx: ExecutionContext) -> tuple[str, str]:
    """Whose memories a run reads and writes: its tenant and its user ("" when it names none)."""
    return ctx.caller.tenant or LOCAL_TENANT, ctx.caller.user or ""


@dataclass
class LongTermMemory:
    embedder: Embedder
    top_k: int = 5

    async def remember(self, ctx: ExecutionContext, text: str) -> Memory:
        text = text.strip()
        if not text:
            raise ToolError("there is nothing to remember: pass the fact as `text`")
        if len(text) > MAX_CHARS:
            raise ToolError(f"a memory holds at most {MAX_CHARS} characters; keep the fact itself")
        tenant, user = scope(ctx)
        vector = (await self.embedder.embed([text]))[0].astype(np.float32).tobytes()
        runtime = ctx.runtime
        return await anyio.to_thread.run_sync(
            lambda: runtime.store().add_memory(
                tenant=tenant, user=user, text=text, embedder=self.embedder.name, vector=vector
            )
        )

    async def recall(
        self, ctx: ExecutionContext, query: str, k: int | None = None
    ) -> list[tuple[Memory, float]]:
        """The run's user's memories nearest `query`, best first, with their cosine similarity."""
        tenant, user = scope(ctx)
        runtime = ctx.runtime
        rows = await anyio.to_thread.run_sync(
            lambda: runtime.store().memory_vectors(tenant=tenant, user=user, embedder=self.embedder.name)
        )
        if not rows:
            return []
        # One user's memories are few: an exact scan (unit vectors, so a dot product is the cosine).
        dataset = np.vstack([np.frombuffer(vector, dtype=np.float32) for _, vector in rows])
        probe = (await self.embedder.embed([query]))[0]
        scores = dataset @ probe
        best = np.argsort(-scores)[: k or self.top_k]
        return [(rows[int(i)][0], round(float(scores[i]), 4)) for i in best]

    async def relevant(self, ctx: ExecutionContext, question: str) -> str:
        """`{{ memory.relevant }}`: the nearest memories as a list, or a line saying there are none."""
        found = await self.recall(ctx, question)
        if not found:
            return "(nothing remembered yet)"
        return "\n".join(f"- {memory.text}" for memory, _ in found)


def memory_toolset(memory: LongTermMemory, *, file: str | None = None) -> Toolset:
    async def remember(ctx: ExecutionContext, text: Fact) -> str:
        await memory.remember(ctx, text)
        return "Remembered."

    async def recall(ctx: ExecutionContext, query: Query) -> str:
        found = await memory.recall(ctx, query)
        if not found:
            return "Nothing remembered matches."
        return "\n".join(
            f"- {m.text} (remembered {m.created_at:%Y-%m-%d}, score {score:.2f})" for m, score in found
        )

    return FunctionToolset(
        [
            FunctionTool(
                remember,
                description="Remember a fact about the user or their work for later conversations.",
            ),
            FunctionTool(
                recall, description="Look up facts remembered in earlier conversations with this user."
            ),
        ],
        file=file,
    )


def long_term_memory(embed_model: str, *, top_k: int, build: ToolBuild) -> LongTermMemory:
    models = build.runtime.project.config.models
    return LongTermMemory(embedder_for(embed_model, models=models), top_k=top_k)


@tool_type("memory")
def _build(config: MemoryTool, build: ToolBuild) -> Toolset:
    return memory_toolset(
        long_term_memory(config.embed_model, top_k=config.top_k, build=build), file=build.file
    )
