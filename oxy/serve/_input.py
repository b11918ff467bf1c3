"""Runs that pause for a person, over HTTP: `ServeInput` (a run's input channel) and `Waiters`.

A request is stored `pending` (with the conversation the run would resume from) before its
`input_requested` event goes out; the run then waits in memory for `POST /api/runs/{id}/input`, at
most `--input-timeout` seconds, after which the call fails as a tool error the model reads. The
answer is a compare-and-set in the store, so an answer and the timeout cannot both win. A server
that stops leaves the request pending: after a restart, the answer resumes the run (`RunManager`),
from the stored conversation, with the answered call run first.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import anyio

from oxy.execution.context import ExecutionContext
from oxy.execution.input import InputAnswer, InputChannel, InputRequest
from oxy.storage import AsyncStore, InputStatus
from oxy.storage._schema import utcnow

__all__ = ["Deadline", "GivenAnswer", "ServeInput", "Waiters", "answer_json", "answer_of"]


POLL_S = 1.0
"""How often a waiting run looks in the store for an answer another server process took."""


def answer_json(answer: InputAnswer) -> dict[str, Any]:
    return {"approved": answer.approved, "always": answer.always, "text": answer.text, "note": answer.note}


def answer_of(stored: Mapping[str, Any]) -> InputAnswer:
    return InputAnswer(
        approved=bool(stored.get("approved")),
        always=bool(stored.get("always")),
        text=stored.get("text"),
        note=stored.get("note"),
    )


@dataclass
class _Waiter:
    done: anyio.Event = field(default_factory=anyio.Event)
    answer: InputAnswer | None = None


class Waiters:
    """The requests runs of this process are waiting on, by id."""

    def __init__(self) -> None:
        self._waiting: dict[str, _Waiter] = {}

    def add(self, request_id: str) -> _Waiter:
        """The waiter for `request_id`, made on first ask."""
        waiter = self._waiting.get(request_id)
        if waiter is None:
            waiter = self._waiting[request_id] = _Waiter()
        return waiter

    def remove(self, request_id: str) -> None:
        self._waiting.pop(request_id, None)

    def deliver(self, request_id: str, answer: InputAnswer) -> bool:
        """Hand `answer` to the run waiting on `request_id`; False when none here is."""
        waiter = self._waiting.get(request_id)
        if waiter is None:
            return False
        waiter.answer = answer
        waiter.done.set()
        return True


@dataclass(frozen=True, kw_only=True, slots=True)
class GivenAnswer:
    """An answer given before the run that uses it started (a resumed run's): for that call only."""

    tool: str
    subject: str | None
    answer: InputAnswer


class Deadline:
    """A run's time limit, stopped while the run waits for a person: an unanswered request ends as
    the input timeout says, not by the run timeout, and waiting costs the run none of its time."""

    def __init__(self, scope: anyio.CancelScope | None) -> None:
        self._scope = scope
        self._waiting = 0
        self._left = math.inf

    def pause(self) -> None:
        if self._scope is not None and self._waiting == 0:
            self._left = self._scope.deadline - anyio.current_time()
            self._scope.deadline = math.inf
        self._waiting += 1

    def resume(self) -> None:
        self._waiting -= 1
        if self._scope is not None and self._waiting == 0:
            self._scope.deadline = anyio.current_time() + self._left


@dataclass(kw_only=True)
class ServeInput(InputChannel):
    """One served run's input channel."""

    store: AsyncStore
    waiters: Waiters
    tenant: str
    target: str
    thread_id: str | None
    user: str | None
    variant: str | None
    timeout_s: float | None = 600.0
    answered: dict[str, GivenAnswer] = field(default_factory=dict[str, GivenAnswer])
    """Answers given before this run started, by tool call id (a resumed run's); each used once."""
    shutting_down: Callable[[], bool] = lambda: False
    """Whether the server is stopping: a request it leaves pending can resume the run later."""
    deadline: Deadline = field(default_factory=lambda: Deadline(None))
    _given: dict[str, InputAnswer] = field(default_factory=dict[str, InputAnswer])

    async def open(self, ctx: ExecutionContext, request: InputRequest) -> None:
        given = self.answered.get(request.call_id) if request.call_id is not None else None
        if given is not None and (given.tool, given.subject) == (request.tool, request.subject):
            del self.answered[request.call_id]  # pyright: ignore[reportArgumentType]
            self._given[request.id] = given.answer
            return
        expires = None if self.timeout_s is None else utcnow() + timedelta(seconds=self.timeout_s)
        # Only the run's own agent can resume from its conversation (a nested agent's is not the run's).
        resumable = len(ctx.source) <= 2
        await self.store.open_input_request(
            id=request.id,
            run_id=ctx.run_id,
            tenant=self.tenant,
            thread_id=self.thread_id,
            target=self.target,
            user=self.user,
            variant=self.variant,
            kind=request.kind,
            tool=request.tool,
            what=request.what,
            why=request.why,
            rule=request.rule,
            subject=request.subject,
            options=request.options,
            call_id=request.call_id,
            transcript=ctx.conversation if resumable else (),
            expires_at=expires,
        )
        self.waiters.add(request.id)  # before the request is announced: an answer can come at once

    async def abandoned(self, request: InputRequest) -> None:
        if request.id in self._given or self.shutting_down():
            return  # a shutdown leaves it pending: its answer resumes the run after a restart
        await self._close(request, "cancelled", "the run was cancelled while it waited")

    def release(self, request: InputRequest) -> None:
        self.waiters.remove(request.id)
        self._given.pop(request.id, None)

    async def wait(self, ctx: ExecutionContext, request: InputRequest) -> InputAnswer:
        given = self._given.get(request.id)
        if given is not None:
            return given
        waiter = self.waiters.add(request.id)
        self.deadline.pause()
        try:
            answer = await self._answer(waiter, request)
        finally:
            self.deadline.resume()
        if answer is not None:
            return answer
        note = f"nobody answered within {self.timeout_s:g} s"
        if not await self._close(request, "expired", note):  # answered just as it expired
            answer = waiter.answer or await self._stored_answer(request)
            if answer is not None:
                return answer
        return InputAnswer(approved=False, note=note)

    async def _close(self, request: InputRequest, status: InputStatus, note: str) -> bool:
        closed = False
        with anyio.CancelScope(shield=True):
            closed = await self.store.close_input_request(
                request.id, tenant=self.tenant, status=status, answer={"approved": False, "note": note}
            )
        return closed

    async def _answer(self, waiter: _Waiter, request: InputRequest) -> InputAnswer | None:
        """The answer, delivered in this process or stored by another (a server with several
        workers: the answer may reach any of them); None when the time is up."""
        deadline = anyio.current_time() + (math.inf if self.timeout_s is None else self.timeout_s)
        while True:
            left = deadline - anyio.current_time()
            if left <= 0:
                return None
            with anyio.move_on_after(min(POLL_S, left)):
                await waiter.done.wait()
            if waiter.answer is not None:
                return waiter.answer
            stored = await self._stored_answer(request)
            if stored is not None:
                return stored

    async def _stored_answer(self, request: InputRequest) -> InputAnswer | None:
        found = await self.store.input_answer(request.id, tenant=self.tenant)
        if found is None or found[0] != "answered" or found[1] is None:
            return None
        return answer_of(found[1])

    async def granted(self, ctx: ExecutionContext, key: str) -> bool:
        if key in self.always_approved:
            return True
        if self.thread_id is None:
            return False
        return key in await self.store.thread_grants(self.thread_id, tenant=self.tenant)
