"""The terminal view of a run: streamed answer, tool calls with highlighted SQL, tables, a spinner
while waiting, and a one-line summary at the end."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.status import Status
from rich.syntax import Syntax
from rich.table import Table

from oxy.databases.table import TableOutput
from oxy.events.sinks import EventSink
from oxy.events.types import (
    ChartEvent,
    ErrorEvent,
    Event,
    InputAnswered,
    InputRequested,
    ReasoningDelta,
    RunFinished,
    RunStarted,
    SqlEvent,
    StepFinished,
    StepStarted,
    TableEvent,
    TextDelta,
    ToolCallEvent,
    ToolResultEvent,
    UsageEvent,
)
from oxy.workflows.outputs import ConsistencyOutput, LoopOutput

MAX_TABLE_ROWS = 50
PREVIEW_LINES = 12
_SHORTCUTS = {"task_cached": "(cached)", "task_replayed": "(from the earlier run)"}


@dataclass(kw_only=True)
class RunStats:
    model_calls: int = 0
    tool_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0

    def add(self, event: Event) -> None:
        if isinstance(event, UsageEvent):
            self.model_calls += 1
            self.input_tokens += event.input_tokens
            self.output_tokens += event.output_tokens
        elif isinstance(event, ToolCallEvent):
            self.tool_calls += 1


class TerminalSink(EventSink):
    """Renders events for a person. Errors are left to the CLI's one error line."""

    def __init__(self, console: Console | None = None, *, show_summary: bool = True) -> None:
        self.console = console or Console(highlight=False)
        self.stats = RunStats()
        self._show_summary = show_summary
        self._status: Status | None = None
        self._in_text = False
        self._depth0: int | None = None
        self._sql_shown: list[str] = []  # SQL already printed with its tool call
        self._workflow_depth: int | None = None  # length of the workflow step's source, in a workflow run
        self._steps: dict[tuple[str, ...], tuple[str, float]] = {}  # running steps: type, start time
        self._last_preview: Any = None  # the output last shown in full under a finished task
        self._asking = 0  # requests for a person not answered yet

    async def emit(self, event: Event) -> None:
        self.stats.add(event)
        self._render(event)

    # -- rendering -------------------------------------------------------------------------------

    def _render(self, event: Event) -> None:  # noqa: C901 - one branch per event kind reads best
        if self._workflow_depth is not None and isinstance(event, TextDelta | ReasoningDelta):
            return  # a workflow's agents may answer at once: each answer shows when its task finishes
        if isinstance(event, TextDelta):
            self._stop_spinner()
            self._in_text = True
            self.console.out(event.text, end="", highlight=False)
            return
        self._end_text()
        if isinstance(event, RunStarted):
            if self._depth0 is None:
                self._depth0 = len(event.source)
                variant = (event.prompt or {}).get("variant")
                if variant is not None:  # an A/B run: say which arm answers
                    self.console.print(f"[dim]variant {escape(str(variant))}[/]")
                self._start_spinner("Working…")
        elif isinstance(event, ReasoningDelta):
            self._stop_spinner()
            self.console.out(event.text, end="", style="dim italic", highlight=False)
        elif isinstance(event, ToolCallEvent):
            self._stop_spinner()
            self._tool_call(event)
            self._start_spinner(f"Running {event.name}…")
        elif isinstance(event, ToolResultEvent):
            self._stop_spinner()
            if event.is_error:
                self.console.print(f"[red]✗ {escape(event.name)}:[/] {escape(_first_line(event.content))}")
            self._start_spinner("Thinking…")
        elif isinstance(event, SqlEvent):
            self._sql(event)
        elif isinstance(event, TableEvent):
            self._stop_spinner()
            self.console.print(_table(event))
            self.console.print(f"[dim]{_row_count(event)}[/]")
        elif isinstance(event, ChartEvent):
            self._stop_spinner()
            self.console.print(
                f"[cyan]chart:[/] {escape(event.title or event.spec.get('title', 'untitled'))}"
            )
        elif isinstance(event, StepStarted):
            self._step_started(event)
        elif isinstance(event, StepFinished):
            self._step_finished(event)
        elif isinstance(event, UsageEvent) and event.finish_reason == "length":
            self._stop_spinner()
            self.console.print(
                f"[yellow]⚠ {escape(event.model)} stopped at its max_tokens: the answer above is cut off[/] "
                "[dim](raise max_tokens for this model in config.yml)[/]"
            )
        elif isinstance(event, ErrorEvent):
            self._stop_spinner()
        elif isinstance(event, InputRequested):
            self._asking += 1
            self._stop_spinner()  # the question is asked below it, at the terminal
        elif isinstance(event, InputAnswered):
            self._asking = max(0, self._asking - 1)
            outcome = "approved" if event.approved else f"not approved: {event.note or 'refused'}"
            if event.text is not None:
                outcome = f"answered: {event.text}"
            self.console.print(f"[dim]  → {escape(outcome)}[/]")
            if not self._asking:  # another question may be waiting for its answer below
                self._start_spinner("Working…")
        elif isinstance(event, RunFinished) and len(event.source) == self._depth0:
            self._stop_spinner()
            if self._workflow_depth is not None and event.status == "ok":
                self._final_output(event.output)
            if self._show_summary:
                self._summary(event)

    def _tool_call(self, event: ToolCallEvent) -> None:
        args = _parse_args(event.arguments)
        sql = args.get("sql") if isinstance(args, dict) else None
        if isinstance(sql, str):
            self.console.print(f"[bold cyan]→ {escape(event.name)}[/]")
            self._print_sql(sql.strip())
            self._sql_shown.append(sql.strip())
        else:
            shown = event.arguments if len(event.arguments) <= 200 else event.arguments[:200] + "…"
            self.console.print(f"[bold cyan]→ {escape(event.name)}[/] [dim]{escape(shown)}[/]")

    def _sql(self, event: SqlEvent) -> None:
        sql = event.sql.strip()
        if sql in self._sql_shown:  # the tool call that sent it already showed it
            self._sql_shown.remove(sql)
            return
        self._stop_spinner()
        self.console.print(f"[dim]SQL on {escape(event.database)} ({escape(event.dialect)}):[/]")
        self._print_sql(sql)

    def _print_sql(self, sql: str) -> None:
        """Highlighted and wrapped to a terminal's width; piped (a file, `grep`), the text as written."""
        if self.console.is_terminal:
            self.console.print(Syntax(sql, "sql", theme="ansi_dark", word_wrap=True))
        else:
            self.console.print(sql, soft_wrap=True, markup=False, highlight=False)

    def _step_started(self, event: StepStarted) -> None:
        self._steps[event.source] = (event.step_type, event.ts)
        if event.step_type == "workflow" and self._workflow_depth is None:
            self._workflow_depth = len(event.source)
        elif event.step_type in ("task", "workflow_task"):
            self._stop_spinner()
            self.console.print(f"[bold]▶ {escape(self._label(event))}[/]")
            self._start_spinner(f"Running {event.name}…")
        elif event.step_type in _SHORTCUTS:
            self._stop_spinner()
            self.console.print(
                f"[cyan]↺ {escape(self._label(event))}[/] [dim]{_SHORTCUTS[event.step_type]}[/]"
            )

    def _step_finished(self, event: StepFinished) -> None:
        step_type, started = self._steps.pop(event.source, ("", event.ts))
        if event.status == "error":
            self._stop_spinner()
            self.console.print(f"[red]✗ {escape(self._label(event))}[/]")
        elif step_type == "task" and event.status == "ok":
            self._stop_spinner()
            self.console.print(f"[green]✓ {escape(self._label(event))}[/] [dim]{event.ts - started:.2f} s[/]")
            self._preview(event.output)

    def _label(self, event: StepStarted | StepFinished) -> str:
        """The task's path inside the workflow: `schedules › 0 › report`."""
        depth = self._workflow_depth if self._workflow_depth is not None else len(event.source) - 1
        return " › ".join(event.source[depth:]) or event.name

    def _preview(self, output: Any) -> None:
        """A finished task's result: text (its first lines), a consistency score, a loop's size."""

        self._last_preview = None
        if isinstance(output, ConsistencyOutput):
            self._text_block(output.value)
            self.console.print(f"  [dim]consistency score {output.score:g}[/]")
        elif isinstance(output, LoopOutput):
            self.console.print(f"  [dim]{len(output)} iteration{'s' if len(output) != 1 else ''}[/]")
        elif isinstance(output, str):
            if self._text_block(output):
                self._last_preview = output

    def _text_block(self, text: str) -> bool:
        """Print `text` indented, cut at PREVIEW_LINES; True when it was shown whole."""
        lines = text.strip("\n").splitlines()
        for line in lines[:PREVIEW_LINES]:
            self.console.print(f"  {escape(line)}", highlight=False)
        if len(lines) > PREVIEW_LINES:
            self.console.print(f"  [dim]… {len(lines) - PREVIEW_LINES} more lines[/]")
        return len(lines) <= PREVIEW_LINES

    def _final_output(self, output: Any) -> None:
        """The last task's output, in full (unless it was just shown whole)."""

        if not isinstance(output, dict) or not output:
            return
        last: Any = list(output.values())[-1]  # pyright: ignore[reportUnknownArgumentType]
        if last is self._last_preview:
            return
        if isinstance(last, TableOutput):
            self.console.print(
                _table(TableEvent(columns=last.columns, rows=last.rows, truncated=last.truncated))
            )
        elif isinstance(last, str) or type(last).__name__ == "ConsistencyOutput":
            self.console.rule(style="dim")
            self.console.print(escape(str(last).strip("\n")), highlight=False)

    def _summary(self, event: RunFinished) -> None:
        s = self.stats
        mark = {"ok": "[green]✓[/]", "error": "[red]✗[/]", "cancelled": "[yellow]■[/]"}[event.status]
        parts = [f"{event.duration_s:.2f} s"]
        if s.model_calls:
            parts.append(f"{s.model_calls} model call{'s' if s.model_calls != 1 else ''}")
            parts.append(f"{s.input_tokens} → {s.output_tokens} tokens")
        if s.model_calls or s.tool_calls:
            parts.append(f"{s.tool_calls} tool call{'s' if s.tool_calls != 1 else ''}")
        self.console.print(f"{mark} [dim]{' · '.join(parts)}[/]")

    # -- helpers ---------------------------------------------------------------------------------

    def _end_text(self) -> None:
        if self._in_text:
            self.console.out("")
            self._in_text = False

    def _start_spinner(self, message: str) -> None:
        if not self.console.is_terminal:
            return
        waiting = Waiting(message)
        if self._status is None:
            self._status = self.console.status(waiting, spinner="dots")
            self._status.start()
        else:
            self._status.update(waiting)

    def _stop_spinner(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    def close(self) -> None:
        self._stop_spinner()
        self._end_text()


class Waiting:
    """A spinner's text that, after a few seconds, says what it waits for and for how long: a model
    that accepts a request and never answers should not look like work in progress."""

    AFTER_S = 3.0
    _SAYS = {"Working…": "waiting for the model", "Thinking…": "waiting for the model to answer"}

    def __init__(self, message: str) -> None:
        self.message = message
        self.since = time.monotonic()

    def text(self) -> str:
        waited = time.monotonic() - self.since
        if waited < self.AFTER_S:
            return self.message
        says = self._SAYS.get(self.message, f"{self.message.rstrip('…').lower()}: waiting for it to finish")
        return f"{self.message} ({says}, {waited:.0f} s)"

    def __rich__(self) -> str:
        return self.text()


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def _parse_args(arguments: str) -> Any:
    try:
        return json.loads(arguments)
    except ValueError:
        return None


def _table(event: TableEvent) -> Table:
    table = Table(show_edge=False, header_style="bold", pad_edge=False)
    for column in event.columns:
        table.add_column(column, overflow="fold")
    for row in event.rows[:MAX_TABLE_ROWS]:
        table.add_row(*("NULL" if v is None else escape(str(v)) for v in row))
    return table


def _row_count(event: TableEvent) -> str:
    hidden = len(event.rows) - MAX_TABLE_ROWS
    shown = min(len(event.rows), MAX_TABLE_ROWS)
    if hidden > 0 or event.truncated:
        more = "more" if event.truncated else str(hidden)
        return f"{shown} rows shown, {more} not shown"
    return f"{len(event.rows)} row{'s' if len(event.rows) != 1 else ''}"
