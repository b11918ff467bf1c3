"""The one seam every model sits behind."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing

from .messages import Message, ModelDelta, ModelResponse, ModelSettings, ResponseDone, ToolDefinition

__all__ = ["DEFAULT_SETTINGS", "ModelClient"]

DEFAULT_SETTINGS = ModelSettings()


class ModelClient(ABC):
    """A model: one call in, one turn out, whole (`request`) or as deltas (`stream`).

    `stream` yields text, reasoning and tool-call deltas as they arrive and always ends with one
    `ResponseDone` holding the assembled turn. Close it early with `contextlib.aclosing`.
    Failures raise `oxy.errors.ModelError` after the client's own retries.
    """

    name: str
    """The model's name in `config.yml`, used in error messages."""

    @abstractmethod
    def stream(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolDefinition] = (),
        settings: ModelSettings = DEFAULT_SETTINGS,
    ) -> AsyncGenerator[ModelDelta, None]:
        """Yield the turn's deltas, ending with `ResponseDone`."""

    async def request(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolDefinition] = (),
        settings: ModelSettings = DEFAULT_SETTINGS,
    ) -> ModelResponse:
        """The whole turn at once. The default drains `stream`; clients override it when cheaper."""
        async with aclosing(self.stream(messages, tools=tools, settings=settings)) as deltas:
            async for delta in deltas:
                if isinstance(delta, ResponseDone):
                    return delta.response
        raise AssertionError(f"{type(self).__name__}.stream ended without a ResponseDone")
