"""Asking the person at the terminal: approve a tool call (y / n / always) or answer the model's question.

`oxy run` and `oxy chat` pass `input_channel(yes=..., no=...)` to their runs: `--yes` approves every
call that would be asked, `--no` refuses them (both unattended: questions are left unanswered); with
neither, a person at a terminal is asked inline, and a run whose stdin is not a terminal cannot ask
(what would be asked is refused, saying so). "always" approves the same call for the rest of the
thread (the `oxy chat` session, or the run).

The answer is read without a thread: the loop waits for stdin to be readable, so Ctrl-C stops a run
that is waiting for an answer at once.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio
import click
from rich.console import Console
from rich.markup import escape

from oxy.execution.context import ExecutionContext
from oxy.execution.input import FixedInput, InputAnswer, InputChannel, InputRequest, grant_key

__all__ = ["TerminalInput", "input_channel", "yes_no_options"]

F = TypeVar("F", bound=Callable[..., Any])


def yes_no_options(command: F) -> F:
    """`--yes` / `--no`: answer every approval the run would ask for, for unattended runs."""
    command = click.option(
        "--no",
        "refuse",
        is_flag=True,
        help="Refuse every tool call the agent's permissions would ask a person about.",
    )(command)
    return click.option(
        "--yes",
        "approve",
        is_flag=True,
        help="Approve every tool call the agent's permissions would ask a person about (deny rules still apply).",
    )(command)


def input_channel(*, yes: bool, no: bool) -> InputChannel | None:
    """Who answers a run's requests: `--yes`, `--no`, the person at the terminal, or nobody."""
    if yes and no:
        raise click.UsageError("--yes and --no contradict each other; pass one")
    if yes:
        return FixedInput(approve=True)
    if no:
        return FixedInput(approve=False)
    if not sys.stdin.isatty():
        return None
    return TerminalInput(console=Console(stderr=True, highlight=False))


async def _read_line() -> str | None:
    """A line typed at the terminal (None at end of input), read from the descriptor as it becomes
    readable: the event loop never blocks, and Ctrl-C cancels the wait at once."""
    fd = sys.stdin.fileno()
    data = bytearray()
    while not data.endswith(b"\n"):
        await anyio.wait_readable(fd)
        chunk = os.read(fd, 1)  # one byte at a time: nothing after the line is taken from the terminal
        if not chunk:
            return data.decode(errors="replace") if data else None
        data += chunk
    return data[:-1].decode(errors="replace").rstrip("\r")


@dataclass(kw_only=True)
class TerminalInput(InputChannel):
    console: Console
    _asking: anyio.Lock = field(default_factory=anyio.Lock)
    """Calls of one turn run at once: their questions are asked one after another."""

    def forget(self) -> None:
        """A new conversation: what was approved "always" was for the last one."""
        self.always_approved.clear()

    async def wait(self, ctx: ExecutionContext, request: InputRequest) -> InputAnswer:
        async with self._asking:
            if request.kind == "permission" and await self.granted(
                ctx, grant_key(request.tool, request.subject)
            ):
                return InputAnswer(approved=True, always=True)  # approved "always" while it waited its turn
            return await self._ask(request)

    async def _ask(self, request: InputRequest) -> InputAnswer:
        if request.kind == "question":
            return await self._question(request)
        self.console.print(
            f"[bold yellow]?[/] Allow [bold]{escape(request.what)}[/]? [dim]({escape(request.why)})[/]"
        )
        while True:
            self.console.print("  [bold]y[/]es / [bold]n[/]o / [bold]a[/]lways (this thread): ", end="")
            line = await _read_line()
            if line is None:
                return InputAnswer(approved=False, note="no answer (end of input)")
            choice = line.strip().lower()
            if choice in ("y", "yes"):
                return InputAnswer(approved=True)
            if choice in ("a", "always"):
                return InputAnswer(approved=True, always=True)
            if choice in ("n", "no"):
                return InputAnswer(approved=False, note="refused at the terminal")

    async def _question(self, request: InputRequest) -> InputAnswer:
        self.console.print(f"[bold yellow]?[/] [bold]{escape(request.what)}[/]")
        for number, option in enumerate(request.options, 1):
            self.console.print(f"  {number}. {escape(option)}")
        self.console.print("  answer: ", end="")
        line = await _read_line()
        if line is None or not line.strip():
            return InputAnswer(approved=False, note="no answer")
        text = line.strip()
        if text.isdigit() and 1 <= int(text) <= len(request.options):
            text = request.options[int(text) - 1]
        return InputAnswer(approved=True, text=text)
