"""`ModelFleet`: the model servers a command needs, started for as long as it runs (`--with-models`,
`oxy models serve`). A model whose endpoint already serves it (started by hand, or by another oxy) is
used as it is, not started again."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx

from oxy.config.models import VLLMModelConfig

from .plan import ServerPlan, plan_for
from .status import served_ids
from .supervisor import ModelServer

__all__ = ["ModelFleet"]


class ModelFleet:
    """`async with ModelFleet(models, project_root=...)`: every model's server ready, or a
    `ModelServerError` (the ones already started are stopped again)."""

    def __init__(
        self,
        models: Sequence[VLLMModelConfig],
        *,
        project_root: Path,
        on_line: Callable[[str], None] | None = None,
        reuse: bool = True,
    ) -> None:
        self.plans: list[ServerPlan] = [plan_for(m, project_root=project_root) for m in models]
        self.servers: dict[str, ModelServer] = {}
        self.reused: list[str] = []
        self._on_line = on_line
        self._reuse = reuse
        self._stack = AsyncExitStack()

    async def __aenter__(self) -> Self:
        await self._stack.__aenter__()
        try:
            for plan in self.plans:  # one after another: each loads weights, and GPUs are shared
                if self._reuse and await _already_served(plan):
                    self.reused.append(plan.model)
                    continue
                server = ModelServer(plan, on_line=self._on_line)
                self.servers[plan.model] = await self._stack.enter_async_context(server)
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._stack.__aexit__(exc_type, exc, tb)

    def failed(self) -> list[str]:
        """The servers given up on (their restarts spent), each with why."""
        return [s.error or f"model {n!r} failed" for n, s in self.servers.items() if s.state == "failed"]

    def problems(self) -> list[str]:
        """Why a model is not ready now (restarting, or given up on); empty when all are."""
        return [
            f"model {name!r}: {server.state}" + (f" ({server.error})" if server.error else "")
            for name, server in self.servers.items()
            if server.state != "ready"
        ]


async def _already_served(plan: ServerPlan) -> bool:
    try:
        async with httpx.AsyncClient(timeout=1.0, trust_env=False, headers=plan.probe_headers) as http:
            ids = await served_ids(http, plan.api_url)
    except httpx.HTTPError:
        return False
    return ids is not None and plan.model_ref in ids
