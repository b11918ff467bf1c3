"""A model server that accepts and never answers (issue 9, item 5): each wait has its own bound —
connect, the answer's start, the pauses between chunks — and the whole call a deadline."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from oxy.cli._terminal import Waiting
from oxy.config.models import VLLMModelConfig
from oxy.errors import ModelError
from oxy.models import ModelClient, client_for
from oxy.models.messages import UserMessage
from oxy.testing import Reply, ScriptedModelServer

HI = [UserMessage(content="Hi")]


def vllm(url: str, **options: object) -> ModelClient:
    cfg = VLLMModelConfig.model_validate(
        {"name": "stuck", "vendor": "vllm", "model_ref": "m", "api_url": url, "retry_backoff": 0.0, **options}
    )
    return client_for(cfg, project_root=Path("."))


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections, reads the request, never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    listener.close()


async def _error(client: ModelClient) -> tuple[str, float]:
    started = time.monotonic()
    with pytest.raises(ModelError) as raised:
        async for _ in client.stream(HI):
            pass
    return str(raised.value), time.monotonic() - started


@pytest.mark.anyio
@pytest.mark.usefixtures("shared_clients")
async def test_a_server_that_never_answers_is_given_up_on(silent_server: str) -> None:
    message, took = await _error(vllm(silent_server, first_token_timeout=0.3, max_retries=1))
    assert message == (
        "Model 'stuck' (vllm): request failed after 2 attempts: waited 0.3 s for the first token without a "
        "word from the server — is the server overloaded or stuck?"
    )
    assert took < 10  # was 481 s: 120 s × 4 attempts


@pytest.mark.anyio
@pytest.mark.usefixtures("shared_clients")
async def test_a_stream_that_stalls_between_chunks(server: ScriptedModelServer) -> None:
    server.set_script([Reply(text="one two three four five six", chunk_delay=2.0)])
    message, _ = await _error(vllm(server.base_url, chunk_timeout=0.3, max_retries=0))
    assert message == (
        "Model 'stuck' (vllm): request failed: waited 0.3 s for the next chunk without a word from the "
        "server — is the server overloaded or stuck?"
    )


@pytest.mark.anyio
@pytest.mark.usefixtures("shared_clients")
async def test_the_deadline_bounds_every_attempt_together(silent_server: str) -> None:
    message, took = await _error(vllm(silent_server, first_token_timeout=None, deadline=0.5, max_retries=10))
    assert message == (
        "Model 'stuck' (vllm): request failed: no complete answer within the 0.5 s deadline — is the server "
        "overloaded or stuck?"
    )
    assert took < 10


@pytest.mark.anyio
@pytest.mark.usefixtures("shared_clients")
async def test_a_slow_start_within_its_timeout_is_fine(server: ScriptedModelServer) -> None:
    server.set_script([Reply(text="Fine.", delay=0.3)])
    deltas = [d async for d in vllm(server.base_url, first_token_timeout=5).stream(HI)]
    assert deltas[-1].response.text == "Fine."  # type: ignore[union-attr]


@pytest.mark.anyio
@pytest.mark.usefixtures("shared_clients")
async def test_a_whole_answer_may_take_longer_than_one_read_of_a_stream(server: ScriptedModelServer) -> None:
    """A whole answer is one read that lasts as long as the model writes: `timeout` (one read of a
    stream) must not cut it; the deadline bounds it."""
    server.set_script([Reply(text="Thought long.", delay=1.0), Reply(text="Too long.", delay=3.0)])
    client = vllm(server.base_url, timeout=0.3, max_retries=0, deadline=2.0)
    assert (await client.request(HI)).text == "Thought long."
    with pytest.raises(ModelError, match=r"no complete answer within the 2 s deadline"):
        await client.request(HI)


def test_the_terminal_says_what_it_waits_for_after_a_few_seconds() -> None:
    waiting = Waiting("Thinking…")
    assert waiting.text() == "Thinking…"
    waiting.since -= 12
    assert waiting.text() == "Thinking… (waiting for the model to answer, 12 s)"
    running = Waiting("Running execute_sql…")
    running.since -= 5
    assert running.text() == "Running execute_sql… (running execute_sql: waiting for it to finish, 5 s)"
