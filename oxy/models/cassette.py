"""Record and replay model exchanges: `oxy test --record` / `--replay` (and `oxy run`).

A cassette is one readable JSON file (`.oxy/cassettes/<name>.json`) of interactions: the request
as oxy would send it, normalised (tool-call ids numbered in order of appearance, only the settings
that change an answer), and each response recorded for it, in order. `CassetteClient` wraps a
model: recording, it asks the real model and keeps the answer; replaying, it answers from the
cassette and never reaches a network, and a request with no recording is a `ModelError` saying
the prompt, tools or settings changed. Answers recorded several times for one request (a case run
three times) are replayed in turn. Values of secret-looking environment variables (`*KEY`,
`*TOKEN`, `*SECRET`, `*PASSWORD`) are redacted before anything is written.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import threading
from collections.abc import AsyncGenerator, Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from oxy.errors import ModelError

from ._openai_format import request_body
from .client import DEFAULT_SETTINGS, ModelClient
from .messages import (
    Message,
    ModelDelta,
    ModelResponse,
    ModelSettings,
    ResponseDone,
    ToolCall,
    ToolDefinition,
    Usage,
)

__all__ = [
    "Cassette",
    "CassetteClient",
    "CassetteMode",
    "normalised_body",
    "normalised_request",
    "request_key",
    "response_from_json",
]

CassetteMode = Literal["record", "replay"]
_SETTINGS = (
    "tool_choice",
    "temperature",
    "top_p",
    "max_tokens",
    "stop",
    "seed",
    "parallel_tool_calls",
    "reasoning_effort",
)
_SECRET_SUFFIXES = ("KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "PASS", "CREDENTIAL", "CREDENTIALS")
_URL_PASSWORD = re.compile(r"://[^:/@\s]+:([^@\s]+)@")


class Cassette:
    """The interactions of one file; thread-safe; `save()` writes it atomically (recording only)."""

    def __init__(self, path: Path, mode: CassetteMode, *, display: str | None = None) -> None:
        self.path = path
        self.mode = mode
        self.display = display or str(path)
        """How messages name the file (relative to the project where it is inside it)."""
        self._lock = threading.Lock()
        self._entries: dict[str, dict[str, Any]] = {}
        self._played: dict[str, int] = {}
        self._dirty = False
        if mode == "replay" and not path.is_file():
            raise ModelError(f"no cassette at {self.display}: record one first with --record")
        if path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                self._entries = {e["key"]: e for e in data["interactions"]}
            except (ValueError, KeyError, TypeError) as exc:
                if mode == "replay":
                    raise ModelError(
                        f"the cassette {self.display} is not readable ({exc}); record it again"
                    ) from None
                self._entries = {}  # recording writes it afresh
        self._fresh: set[str] = set()
        """Keys recorded in this session: their earlier responses were replaced; others are kept."""

    def next_response(self, key: str, model: str) -> ModelResponse:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or not entry["responses"]:
                raise ModelError(
                    f"Model {model!r}: no recording of this request in {self.display}: the prompt, tools or "
                    "settings changed since it was recorded; record again with --record",
                    model=model,
                )
            index = self._played.get(key, 0)
            self._played[key] = index + 1
            responses: list[dict[str, Any]] = entry["responses"]
            return response_from_json(responses[index % len(responses)])

    def add(self, key: str, request: dict[str, Any], response: ModelResponse) -> None:
        with self._lock:
            entry = self._entries.setdefault(key, {"key": key, "request": request, "responses": []})
            if key not in self._fresh:
                self._fresh.add(key)
                entry["responses"] = []  # recording again replaces what the request got before
            entry["responses"].append(_response_json(response))
            self._dirty = True

    def save(self) -> None:
        with self._lock:
            if self.mode != "record" or not self._dirty:
                return
            kept = [e for e in self._entries.values() if e["responses"]]
            text = _redact(json.dumps({"version": 1, "interactions": kept}, indent=2, ensure_ascii=False))
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    f.write(text + "\n")
                os.chmod(tmp, 0o644)
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            self._dirty = False


class CassetteClient(ModelClient):
    """A model behind a cassette: `inner()` (made on first use, recording only) answers live."""

    def __init__(self, name: str, cassette: Cassette, inner: Callable[[], ModelClient] | None = None) -> None:
        self.name = name
        self._cassette = cassette
        self._make_inner = inner
        self._inner: ModelClient | None = None

    async def request(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolDefinition] = (),
        settings: ModelSettings = DEFAULT_SETTINGS,
    ) -> ModelResponse:
        request = normalised_request(self.name, messages, tools, settings)
        key = request_key(request)
        if self._cassette.mode == "replay":
            return self._cassette.next_response(key, self.name)
        response = await self._live().request(messages, tools=tools, settings=settings)
        self._cassette.add(key, request, response)
        return response

    async def stream(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolDefinition] = (),
        settings: ModelSettings = DEFAULT_SETTINGS,
    ) -> AsyncGenerator[ModelDelta, None]:
        response = await self.request(messages, tools=tools, settings=settings)
        for delta in response.as_deltas():
            yield delta
        yield ResponseDone(response)

    def _live(self) -> ModelClient:
        if self._inner is None:
            if self._make_inner is None:
                raise ModelError(f"Model {self.name!r}: nothing to record from", model=self.name)
            self._inner = self._make_inner()
        return self._inner


def normalised_request(
    model: str, messages: Sequence[Message], tools: Sequence[ToolDefinition], settings: ModelSettings
) -> dict[str, Any]:
    """The request as a plain dict, the same each time the same question meets the same project."""
    return normalised_body(request_body(model, messages, tools, settings))


def normalised_body(body: dict[str, Any]) -> dict[str, Any]:
    """An OpenAI chat request body as a cassette keys it: tool-call ids numbered in order, only the
    fields that change an answer (`stream` and the like left out)."""
    body = json.loads(json.dumps(body))  # a copy: ids are renumbered in place
    ids: dict[str, str] = {}

    def renumber(value: str) -> str:
        return ids.setdefault(value, f"call_{len(ids)}")

    for message in body["messages"]:
        for call in message.get("tool_calls", ()):
            call["id"] = renumber(call["id"])
        if "tool_call_id" in message:
            message["tool_call_id"] = renumber(message["tool_call_id"])
    kept = {k: body[k] for k in ("model", "messages", "tools") if k in body}
    kept.update({k: body[k] for k in _SETTINGS if k in body})
    return kept


def request_key(request: dict[str, Any]) -> str:
    """From the request as sent, not as written (redacted): the key must not depend on which secrets
    the environment holds."""
    return hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()[:24]


def _response_json(response: ModelResponse) -> dict[str, Any]:
    out: dict[str, Any] = {"text": response.text}
    if response.reasoning:
        out["reasoning"] = response.reasoning
    if response.tool_calls:
        out["tool_calls"] = [
            {"id": c.id, "name": c.name, "arguments": c.arguments} for c in response.tool_calls
        ]
    if response.finish_reason is not None:
        out["finish_reason"] = response.finish_reason
    if response.usage is not None:
        out["usage"] = {
            "input_tokens": response.usage.input_tokens,
            "output_tokens": response.usage.output_tokens,
        }
    return out


def response_from_json(data: dict[str, Any]) -> ModelResponse:
    """A recorded response: `text`, `reasoning`, `tool_calls` (`id`, `name`, `arguments`),
    `finish_reason` and `usage`, the fields of the scripted model's `Reply`."""
    usage = data.get("usage")
    return ModelResponse(
        text=data.get("text", ""),
        reasoning=data.get("reasoning", ""),
        tool_calls=tuple(
            ToolCall(id=c["id"], name=c["name"], arguments=c["arguments"]) for c in data.get("tool_calls", ())
        ),
        usage=Usage(**usage) if usage else None,
        finish_reason=data.get("finish_reason"),
    )


def _redact(text: str) -> str:
    """Secret-looking environment values, and passwords inside URL-valued ones (`DATABASE_URL`)."""
    for name, value in os.environ.items():
        secrets = [value] if name.upper().endswith(_SECRET_SUFFIXES) else _URL_PASSWORD.findall(value)
        for secret in secrets:
            if len(secret) >= 6 and secret in text:
                text = text.replace(secret, f"[redacted {name}]")
    return text
