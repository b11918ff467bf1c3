"""The scripted model as an OpenAI-compatible HTTP server on 127.0.0.1, streaming the way vLLM does.

It runs its own event loop in a background thread, so it serves sync tests, async tests and
benchmarks alike. HTTP/1.1 with keep-alive is parsed by hand on `asyncio.Protocol`: an answer with
no scripted delays is written in one `write()`, which keeps the server far from being the bottleneck
of a benchmark (measured on 2 cores at 64 connections: ~8,000 streamed answers/s, against ~1,200 for a raw ASGI app on uvicorn with h11). Only what OpenAI clients send
is understood: `POST .../chat/completions` with a `Content-Length` JSON body, and `GET .../models`.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterable
from itertools import count
from types import TracebackType
from typing import Any

from ._wire import completion_body, error_body, stream_events
from .script import Drop, Fail, Reply, Script, ScriptedRequest, Scripter, ScriptExhausted, Turn

__all__ = ["ScriptedModelServer"]

_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
}
_SSE_HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\n"
    b"cache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n"
)


def _frame(event: bytes) -> bytes:
    """One HTTP chunk (chunked transfer encoding)."""
    return b"%x\r\n%s\r\n" % (len(event), event)


def _response(status: int, body: bytes, headers: Iterable[tuple[str, str]] = ()) -> bytes:
    reason = _REASONS.get(status, "Error")
    extra = "".join(f"{name}: {value}\r\n" for name, value in headers)
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\n{extra}\r\n"
    )
    return head.encode() + body


class ScriptedModelServer:
    """Serve `script` at `base_url` (`http://127.0.0.1:PORT/v1`) until `stop()` or the end of `with`.

    `requests` records every chat request in arrival order; `in_flight` / `max_in_flight` count the
    requests being answered, to check a client's concurrency bound.
    """

    def __init__(self, script: Script = (), *, model: str = "scripted", host: str = "127.0.0.1") -> None:
        self.model = model
        self.host = host
        self.port = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self._scripter = Scripter(script)
        self._ids = count()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._connections: set[_Connection] = set()
        self._tasks: set[asyncio.Task[None]] = set()  # answers in progress (asyncio keeps weak refs)
        self.embedded: list[list[str]] = []
        """The texts of each `/embeddings` request, in order."""

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    @property
    def requests(self) -> list[ScriptedRequest]:
        return self._scripter.requests

    @property
    def remaining(self) -> int:
        """Scripted turns not yet served."""
        return self._scripter.remaining

    def set_script(self, script: Script) -> None:
        """Replace the script and forget recorded requests and counters (to reuse one server)."""
        self._scripter.set(script)
        self._scripter.requests.clear()
        self.max_in_flight = self.in_flight

    def extend(self, turns: Iterable[Turn]) -> None:
        self._scripter.extend(turns)

    def start(self) -> ScriptedModelServer:
        if self._thread is not None:
            return self
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        sock.listen(1024)
        self.port = sock.getsockname()[1]
        loop = self._loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            self._server = loop.run_until_complete(
                loop.create_server(lambda: _Connection(self), sock=sock, backlog=1024)
            )
            ready.set()
            loop.run_forever()

        self._thread = threading.Thread(target=run, name=f"scripted-model:{self.port}", daemon=True)
        self._thread.start()
        ready.wait()
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()
        self._loop = self._thread = self._server = None

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for connection in list(self._connections):
            connection.abort()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            try:
                await task
            except asyncio.CancelledError:
                pass
        if self._server is not None:
            await self._server.wait_closed()

    def __enter__(self) -> ScriptedModelServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- called on the server thread ------------------------------------------------------------

    def answer(self, path: str, body: bytes) -> tuple[Turn | bytes, ScriptedRequest | None]:
        """The turn for a request, or ready response bytes (errors, `/models`)."""
        if path.endswith("/models"):
            listing = {"object": "list", "data": [{"id": self.model, "object": "model", "owned_by": "oxy"}]}
            return _response(200, json.dumps(listing).encode()), None
        if path.endswith("/embeddings"):
            return self._embeddings(body), None
        if not path.endswith("/chat/completions"):
            return _response(404, error_body(404, f"no route {path!r}")), None
        try:
            data: dict[str, Any] = json.loads(body)
        except ValueError:
            return _response(400, error_body(400, "the body is not JSON")), None
        request = ScriptedRequest(
            model=str(data.get("model", self.model)), stream=bool(data.get("stream")), body=data
        )
        try:
            return self._scripter.next(request), request
        except ScriptExhausted as exc:
            return _response(400, error_body(400, str(exc))), request

    def _embeddings(self, body: bytes) -> bytes:
        """`/v1/embeddings` as vLLM answers it, with real vectors: the local embedder's (WordLlama)."""
        from oxy.models.embeddings import LocalEmbedder  # lazy: only a test that embeds loads it

        try:
            data: dict[str, Any] = json.loads(body)
            given = data["input"]
            texts = [given] if isinstance(given, str) else [str(t) for t in given]
        except (ValueError, KeyError, TypeError):
            return _response(400, error_body(400, "the body needs `input`: a string or a list of strings"))
        self.embedded.append(texts)
        vectors = LocalEmbedder().embed_now(texts)
        answer = {
            "object": "list",
            "model": str(data.get("model", self.model)),
            "data": [
                {"object": "embedding", "index": i, "embedding": [float(x) for x in vector]}
                for i, vector in enumerate(vectors)
            ],
            "usage": {"prompt_tokens": sum(len(t.split()) for t in texts), "total_tokens": 0},
        }
        return _response(200, json.dumps(answer).encode())

    def render(self, turn: Reply, request: ScriptedRequest, prompt_chars: int) -> bytes | list[bytes]:
        request_id = f"chatcmpl-{next(self._ids)}"
        created = int(time.time())
        if not request.stream:
            body = completion_body(
                turn, model=request.model, request_id=request_id, created=created, prompt_chars=prompt_chars
            )
            return _response(200, body)
        options = (request.body or {}).get("stream_options") or {}
        return stream_events(
            turn,
            model=request.model,
            request_id=request_id,
            created=created,
            include_usage=bool(options.get("include_usage")),
            prompt_chars=prompt_chars,
        )


class _Connection(asyncio.Protocol):
    """One keep-alive connection: requests are answered one after another, in order."""

    def __init__(self, server: ScriptedModelServer) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.busy = False
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.server._connections.add(self)  # pyright: ignore[reportPrivateUsage]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.server._connections.discard(self)  # pyright: ignore[reportPrivateUsage]

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._serve()

    def _serve(self) -> None:
        while not self.busy and not self.closed:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
            length = 0
            for line in head[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            body = bytes(self.buffer[end + 4 : end + 4 + length])
            del self.buffer[: end + 4 + length]
            parts = head[0].split(" ")
            path = parts[1] if len(parts) > 1 else "/"
            self._handle(path, body)

    def _handle(self, path: str, body: bytes) -> None:
        server = self.server
        transport = self.transport
        assert transport is not None
        turn, request = server.answer(path, body)
        if isinstance(turn, bytes):
            transport.write(turn)
            return
        assert request is not None
        server.in_flight += 1
        server.max_in_flight = max(server.max_in_flight, server.in_flight)
        prompt_chars = len(body)  # a cheap stand-in for the prompt's length: default usage is an estimate
        if isinstance(turn, Reply) and not turn.delay and not turn.chunk_delay:
            rendered = server.render(turn, request, prompt_chars)
            if isinstance(rendered, bytes):
                transport.write(rendered)
            else:
                transport.write(_SSE_HEAD + b"".join(_frame(e) for e in rendered) + b"0\r\n\r\n")
            server.in_flight -= 1
            return
        self.busy = True
        task = asyncio.get_running_loop().create_task(self._slow(turn, request, prompt_chars))
        server._tasks.add(task)  # pyright: ignore[reportPrivateUsage]
        task.add_done_callback(server._tasks.discard)  # pyright: ignore[reportPrivateUsage]

    async def _slow(self, turn: Turn, request: ScriptedRequest, prompt_chars: int) -> None:
        """Answers that wait, fail or break: written piece by piece."""
        server = self.server
        transport = self.transport
        assert transport is not None
        try:
            if turn.delay:
                await asyncio.sleep(turn.delay)
            if isinstance(turn, Fail):
                headers = [] if turn.retry_after is None else [("retry-after", f"{turn.retry_after:g}")]
                transport.write(_response(turn.status, error_body(turn.status, turn.message), headers))
                return
            reply = turn.reply if isinstance(turn, Drop) else turn
            rendered = server.render(reply, request, prompt_chars)
            events = [rendered] if isinstance(rendered, bytes) else rendered
            limit = turn.after_chunks if isinstance(turn, Drop) else len(events)
            if isinstance(rendered, bytes):
                if not isinstance(turn, Drop):  # a dropped non-streamed answer sends nothing
                    transport.write(rendered)
            else:
                transport.write(_SSE_HEAD)
                for i, event in enumerate(events[:limit]):
                    if i and reply.chunk_delay:
                        await asyncio.sleep(reply.chunk_delay)
                    if self.closed:
                        return
                    transport.write(_frame(event))
                if not isinstance(turn, Drop):
                    transport.write(b"0\r\n\r\n")
            if isinstance(turn, Drop):
                self.closed = True
                transport.close()
        finally:
            server.in_flight -= 1
            self.busy = False
            if not self.closed:
                self._serve()
