"""Running an executable as a whole run: an id, started/finished events, errors as data."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import anyio

from oxy.errors import OxyError, RunCancelled
from oxy.events.sinks import EventSink, NullSink
from oxy.events.types import ErrorEvent, RunFinished, RunStarted, RunStatus
from oxy.execution.agent_io import AgentAnswer
from oxy.execution.context import Caller, ExecutionContext, Limits
from oxy.execution.executable import Executable

if TYPE_CHECKING:
    from oxy.execution.input import InputChannel
    from oxy.execution.runtime import RuntimeHandle

InT = TypeVar("InT")
OutT = TypeVar("OutT")


@dataclass(frozen=True, kw_only=True, slots=True)
class RunResult(Generic[OutT]):
    """How a run ended. `error` is set when `status` is "error" or "cancelled"."""

    run_id: str
    status: RunStatus
    output: OutT | None
    error: OxyError | None
    duration_s: float
    answer: AgentAnswer | None = None
    """For an agent run that answered: the whole answer (messages, tool calls, usage); `output` is its text."""


def new_run_id() -> str:
    return uuid.uuid4().hex


async def run_executable(
    executable: Executable[InT, OutT],
    input: InT,
    *,
    target: str,
    sink: EventSink | None = None,
    runtime: RuntimeHandle | None = None,
    caller: Caller | None = None,
    variables: dict[str, Any] | None = None,
    limits: Limits | None = None,
    run_id: str | None = None,
    source: tuple[str, ...] = (),
    stream: bool | None = None,
    prompt: dict[str, Any] | None = None,
    input_channel: InputChannel | None = None,
) -> RunResult[OutT]:
    """Run `executable` on `input`, emitting run started/finished (and an error event on failure).

    An `OxyError` ends the run with status "error" and comes back in the result, never raised:
    the caller decides how to show it. Cancellation from outside is re-raised after the
    finished event is emitted, so transcripts always close. Models stream their answers when `stream`
    says so, by default when the sink shows text as it arrives (`EventSink.streams_text`).
    """
    run_id = run_id or new_run_id()
    sink = sink or NullSink()
    ctx = ExecutionContext(
        run_id=run_id,
        sink=sink,
        stream=sink.streams_text if stream is None else stream,
        source=source,
        handle=runtime,
        caller=caller or Caller(),
        variables=variables or {},
        limits=limits or Limits(),
        input=input_channel,
    )
    started = time.perf_counter()
    await ctx.emit(RunStarted(source=source, run_id=run_id, target=target, input=input, prompt=prompt))
    try:
        output = await executable.execute(ctx, input)
    except anyio.get_cancelled_exc_class():
        with anyio.CancelScope(shield=True):
            await ctx.emit(
                RunFinished(
                    source=source,
                    run_id=run_id,
                    status="cancelled",
                    error="The run was cancelled.",
                    duration_s=time.perf_counter() - started,
                )
            )
        raise
    except OxyError as exc:
        status: RunStatus = "cancelled" if isinstance(exc, RunCancelled) else "error"
        duration = time.perf_counter() - started
        await ctx.emit(ErrorEvent(source=source, error_type=type(exc).__name__, message=str(exc)))
        await ctx.emit(
            RunFinished(source=source, run_id=run_id, status=status, error=str(exc), duration_s=duration)
        )
        return RunResult(run_id=run_id, status=status, output=None, error=exc, duration_s=duration)
    duration = time.perf_counter() - started
    await ctx.emit(RunFinished(source=source, run_id=run_id, status="ok", output=output, duration_s=duration))
    return RunResult(run_id=run_id, status="ok", output=output, error=None, duration_s=duration)
