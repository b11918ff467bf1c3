"""Routing by embeddings: with more routes than `top_k`, offer the model only the routes nearest the
question, as Oxy does.

A route is described by its tool description and its target's `retrieval.include` prompts; the
question's similarity to a route is the best over those texts. `retrieval.exclude` prompts push a
route away: a question closer to one of its exclude prompts than to anything it includes is not
offered that route. Route vectors are embedded once per process (per embedder and texts), on the
first question. When embedding fails (a service down, no key) the model is offered every route, and
the failure is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import anyio
import numpy as np

from oxy.errors import OxyError
from oxy.models.embeddings import Embedder, Vectors

__all__ = ["RoutePreselector", "RouteTexts"]

logger = logging.getLogger(__name__)
_VECTORS: dict[tuple[str, tuple[str, ...]], Vectors] = {}
_LOCK = anyio.Lock()


@dataclass(frozen=True, slots=True)
class RouteTexts:
    name: str
    include: tuple[str, ...]
    """The route's description and `retrieval.include` prompts."""
    exclude: tuple[str, ...] = ()


class RoutePreselector:
    def __init__(self, embedder: Embedder, routes: Sequence[RouteTexts], *, top_k: int) -> None:
        self.embedder = embedder
        self.routes = tuple(routes)
        self.top_k = top_k

    async def _route_vectors(self) -> tuple[list[Vectors], list[Vectors]]:
        texts = tuple(t for r in self.routes for t in (*r.include, *r.exclude))
        key = (self.embedder.name, texts)
        async with _LOCK:
            embedded = _VECTORS.get(key)
            if embedded is None:
                embedded = _VECTORS[key] = await self.embedder.embed(list(texts))
        include: list[Vectors] = []
        exclude: list[Vectors] = []
        at = 0
        for route in self.routes:
            include.append(embedded[at : at + len(route.include)])
            at += len(route.include)
            exclude.append(embedded[at : at + len(route.exclude)])
            at += len(route.exclude)
        return include, exclude

    async def choose(self, question: str) -> list[str]:
        """The names of the `top_k` routes nearest `question`, nearest first."""
        every = [r.name for r in self.routes]
        if len(self.routes) <= self.top_k:
            return every
        try:
            include, exclude = await self._route_vectors()
            query = (await self.embedder.embed([question]))[0]
        except OxyError as exc:  # no embeddings: the model still gets every route
            logger.warning("routing by embeddings is off for this question: %s", exc)
            return every
        scored: list[tuple[float, str]] = []
        for route, inc, exc in zip(self.routes, include, exclude, strict=True):
            near = float(np.max(inc @ query)) if len(inc) else -1.0
            if len(exc) and float(np.max(exc @ query)) > near:
                continue  # an exclude prompt is the closer match: this route is not for it
            scored.append((near, route.name))
        scored.sort(key=lambda pair: -pair[0])
        return [name for _, name in scored[: self.top_k]]
