"""The scripted model server in a child process, so its work doesn't share the benchmark's GIL.

Every conversation gets the same two turns: a tool call first, then (once a tool result is in the
history) a short answer — the shape of one question, one tool call, two model requests.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable, Generator
from contextlib import contextmanager
from multiprocessing.connection import Connection

from oxy.models import ToolMessage
from oxy.testing import Reply, ScriptedModelServer, ScriptedRequest, Turn, tool_call

TOOL_CALL = Reply(tool_calls=[tool_call("lookup", {"key": "answer"}, id="call_1")])
ANSWER = Reply(text="The answer is 42.")


def two_turns(request: ScriptedRequest) -> Turn:
    return ANSWER if isinstance(request.last_message, ToolMessage) else TOOL_CALL


def _serve(conn: Connection, script: Callable[[ScriptedRequest], Turn]) -> None:
    with ScriptedModelServer(script) as server:
        conn.send(server.base_url)
        conn.recv()  # block until the parent says stop


@contextmanager
def scripted_backend(script: Callable[[ScriptedRequest], Turn] = two_turns) -> Generator[str, None, None]:
    """Start the server in a child process (forked: `script` needn't pickle); yield its base URL."""
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe()
    process = ctx.Process(target=_serve, args=(child, script), daemon=True)
    process.start()
    try:
        yield parent.recv()
    finally:
        parent.send("stop")
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
