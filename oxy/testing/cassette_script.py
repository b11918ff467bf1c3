"""A cassette as a script: the scripted model (in-process or over HTTP) answers from a recording.

A cassette's responses have the fields of a `Reply` (`text`, `reasoning`, `tool_calls`,
`finish_reason`, `usage`), so a cassette recorded against a real model can drive the scripted model
server, which streams like vLLM: a client, a UI or `oxy serve` can then be tested against recorded
answers, offline.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from oxy.errors import ModelError
from oxy.models.cassette import Cassette, normalised_body, normalised_request, request_key

from .script import Fail, Reply, ScriptedRequest, Turn

__all__ = ["from_cassette"]


def from_cassette(path: str | Path, *, model: str | None = None) -> Callable[[ScriptedRequest], Turn]:
    """A script answering each request with its recording in the cassette at `path` (in turn, when
    one request was recorded several times, as `--replay` does). A request it lacks gets a 400 naming
    the cassette. `model` is the config.yml model name the cassette recorded under (default: the
    request's `model`, which over HTTP is the model's `model_ref`)."""
    cassette = Cassette(Path(path), "replay")

    def answer(request: ScriptedRequest) -> Turn:
        name = model or request.model
        if request.body is not None:  # over HTTP: the body as the client sent it
            normalised = normalised_body({**request.body, "model": name})
        else:
            normalised = normalised_request(name, request.messages, request.tools, request.settings)
        try:
            response = cassette.next_response(request_key(normalised), name)
        except ModelError as exc:
            return Fail(status=400, message=str(exc))
        return Reply(
            text=response.text,
            reasoning=response.reasoning,
            tool_calls=response.tool_calls,
            usage=response.usage,
            finish_reason=response.finish_reason,
        )

    return answer
