"""The one place where errors become what a person sees: one line (or one per problem), and an exit code."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sys
import threading
from typing import Any, NoReturn

import click

from oxy.errors import OxyError

EXIT_ERROR = 1
EXIT_BUG = 70  # EX_SOFTWARE
EXIT_INTERRUPTED = 130


class OxyClickError(click.ClickException):
    """An `OxyError` on its way out of a command: shown as `error: <message>`, exit code 1."""

    exit_code = EXIT_ERROR

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.message}", err=True)


def as_click_error(error: OxyError | str) -> OxyClickError:
    return OxyClickError(error_text(str(error)))


_CARET_LINE = re.compile(r"^\s*\^+\s*$")
_SQL_LINE = re.compile(r"^LINE \d+:")


def error_text(message: str) -> str:
    """What follows `error: `. Several problems (`N errors in project files:`) keep one line each,
    indented; a database error with its `LINE 1: ...` and caret lines keeps them as they are (the caret
    points at a column of the line above); any other multi-line message is folded into one line."""
    lines = message.splitlines()
    if len(lines) > 1 and re.match(r"^\d+ errors in ", lines[0]):
        return "\n".join([lines[0], *(f"  {line.rstrip()}" for line in lines[1:] if line.strip())])
    if any(_CARET_LINE.match(line) for line in lines) and any(
        _SQL_LINE.match(line.strip()) for line in lines
    ):
        return "\n".join(line.rstrip() for line in lines if line.strip())
    return one_line(message)


def one_line(message: str) -> str:
    """Fold a multi-line message into one line."""
    lines = [line.strip() for line in message.splitlines()]
    return " ".join(line for line in lines if line and not _CARET_LINE.match(line))


def fail(error: OxyError | str) -> NoReturn:
    """Stop the command: print `error` as one line on stderr and exit 1."""
    raise as_click_error(error)


def _exit_interrupted() -> NoReturn:
    """Ctrl-C: the run has stopped and closed what it opened. Say so and leave now: the rest of the
    interpreter's exit (freeing a local model, joining a thread still inside a driver) could take seconds,
    and another Ctrl-C during it would print a raw `KeyboardInterrupt` traceback."""
    click.echo("Cancelled.", err=True)
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(EXIT_INTERRUPTED)


def run_cli(command: click.Command, argv: list[str] | None) -> Any:
    """Run the click command, mapping every failure to one line on stderr and an exit code."""
    try:
        return _run(command, argv)
    finally:
        _quiet_teardown()


def _quiet_teardown() -> None:
    """The command is done; the interpreter's exit may still take a while (freeing a local model). A
    Ctrl-C then leaves at once, as one during the command would, instead of printing a traceback."""
    if threading.current_thread() is threading.main_thread():
        with contextlib.suppress(ValueError, OSError):
            signal.signal(signal.SIGINT, lambda signum, frame: _exit_interrupted())


def leave_now_if_slow(code: object) -> None:
    """Once a command is done: with a local model loaded, leave with `code` now rather than through the
    interpreter's finalization, which frees the model for a second or more with the signal handlers
    already reset (a Ctrl-C then would kill the process with a traceback)."""
    if "llama_cpp" not in sys.modules:
        return
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code if isinstance(code, int) else (0 if code is None else EXIT_ERROR))


def _run(command: click.Command, argv: list[str] | None) -> Any:
    try:
        return command.main(args=argv, prog_name="oxy", standalone_mode=False)
    except click.exceptions.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except click.ClickException as exc:
        exc.show()
        raise SystemExit(exc.exit_code) from None
    except (click.Abort, KeyboardInterrupt):
        _exit_interrupted()
    except OxyError as exc:
        as_click_error(exc).show()
        raise SystemExit(EXIT_ERROR) from None
    except Exception as exc:  # the one blanket handler: anything here is a bug in oxy
        if os.environ.get("OXY_DEBUG"):
            raise
        name = type(exc).__name__
        click.echo(
            f"internal error: {name}: {exc} — this is a bug in oxy; rerun with OXY_DEBUG=1 for the traceback "
            "and report it.",
            err=True,
        )
        sys.exit(EXIT_BUG)
