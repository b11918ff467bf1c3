"""Asking a person during a run: a tool call that needs approval, or the model's `question`.

A run carries an `InputChannel` in its context (`ctx.input`): the terminal prompts inline (`oxy run`,
`oxy chat`), `--yes` / `--no` answer every request the same way for unattended runs, and `oxy serve`
stores the request, emits `input_requested` and waits for `POST /api/runs/{id}/input`. A run without
a channel cannot ask: what would be asked is refused, saying how to allow it.

A channel also remembers what a person approved "always" for the thread (`granted`), so the same call
is not asked again.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import anyio

from oxy.events.types import InputAnswered, InputRequested

if TYPE_CHECKING:
    from oxy.execution.context import ExecutionContext

__all__ = ["FixedInput", "InputAnswer", "InputChannel", "InputRequest", "grant_key"]

InputKind = Literal["permission", "question"]


@dataclass(frozen=True, kw_only=True, slots=True)
class InputRequest:
    """What a run asks: approval of a tool call (`permission`) or an answer (`question`)."""

    kind: InputKind
    tool: str
    what: str
    """The call as a person reads it (`bash: pytest -q`), or the question."""
    why: str = ""
    """Why it is asked: the rule that said `ask`, or that no rule matched."""
    rule: str | None = None
    subject: str | None = None
    """The path, command or URL the call is about (what an "always" approval covers)."""
    options: tuple[str, ...] = ()
    """A question's suggested answers."""
    call_id: str | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])


@dataclass(frozen=True, kw_only=True, slots=True)
class InputAnswer:
    """A person's answer: `approved` (for a question: whether it was answered), `always` (approve this
    call for the rest of the thread), `text` (a question's answer), `note` (why it was refused)."""

    approved: bool
    always: bool = False
    text: str | None = None
    note: str | None = None


def grant_key(tool: str, subject: str | None) -> str:
    """What an "always" approval is remembered as: the tool and exactly what it was about."""
    return tool if subject is None else f"{tool}({subject})"


class InputChannel(ABC):
    """Where a run's requests for input go. `ask` is the whole exchange: the request is opened
    (`open`: a server stores it), announced as an `input_requested` event, waited for (`wait`), and
    its answer announced as `input_answered`. An approval for "always" is remembered by the channel
    (`granted` says so for the same call later; a server also keeps it with the thread)."""

    timeout_s: float | None = None
    """How long a request waits for an answer (None: until the run ends)."""
    _granted: set[str]

    async def ask(self, ctx: ExecutionContext, request: InputRequest) -> InputAnswer:
        await self.open(ctx, request)
        try:
            return await self._announced(ctx, request)
        except anyio.get_cancelled_exc_class():
            with anyio.CancelScope(shield=True):
                await self.abandoned(request)
            raise
        finally:
            self.release(request)

    async def _announced(self, ctx: ExecutionContext, request: InputRequest) -> InputAnswer:
        await ctx.emit(
            InputRequested(
                source=ctx.source,
                request_id=request.id,
                input_kind=request.kind,
                tool=request.tool,
                what=request.what,
                why=request.why,
                rule=request.rule,
                options=request.options,
                call_id=request.call_id,
                timeout_s=self.timeout_s,
            )
        )
        answer = await self.wait(ctx, request)
        if answer.always and answer.approved and request.kind == "permission":
            self.always_approved.add(grant_key(request.tool, request.subject))
        await ctx.emit(
            InputAnswered(
                source=ctx.source,
                request_id=request.id,
                approved=answer.approved,
                always=answer.always,
                text=answer.text,
                note=answer.note,
            )
        )
        return answer

    async def open(self, ctx: ExecutionContext, request: InputRequest) -> None:
        """Make the request answerable before it is announced (a server stores it)."""
        return None

    async def abandoned(self, request: InputRequest) -> None:
        """The run was cancelled while the request was open (shielded; a server closes it)."""
        return None

    def release(self, request: InputRequest) -> None:
        """The exchange is over, however it ended: let go of what `open` holds."""
        return None

    @abstractmethod
    async def wait(self, ctx: ExecutionContext, request: InputRequest) -> InputAnswer:
        """The answer (the run pauses here)."""

    @property
    def always_approved(self) -> set[str]:
        """The `grant_key`s a person approved "always" through this channel."""
        grants: set[str] | None = getattr(self, "_granted", None)
        if grants is None:
            grants = self._granted = set[str]()
        return grants

    async def granted(self, ctx: ExecutionContext, key: str) -> bool:
        """Whether a person approved `key` (see `grant_key`) "always" in this thread."""
        return key in self.always_approved


@dataclass
class FixedInput(InputChannel):
    """Every request answered the same way, for unattended runs (`--yes`, `--no`): approvals are
    granted or refused; questions are answered by nobody, and the model is told to go on alone."""

    approve: bool

    async def wait(self, ctx: ExecutionContext, request: InputRequest) -> InputAnswer:
        flag = "--yes" if self.approve else "--no"
        if request.kind == "question":
            return InputAnswer(
                approved=False, note=f"nobody can answer: the run is unattended ({flag}); decide yourself"
            )
        return InputAnswer(approved=self.approve, note=None if self.approve else f"refused by {flag}")
