"""`oxy run FILE [PROMPT]`: run a SQL file, an agent or a workflow and show it as it happens."""

from __future__ import annotations

import getpass
import json
import sys
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import click

from oxy.cli._errors import fail
from oxy.cli._input import input_channel, yes_no_options
from oxy.cli._options import cassette_options
from oxy.cli._project import load_runtime
from oxy.cli._tracing import otel_options
from oxy.events.sinks import EventSink, JsonlSink, TeeSink

if TYPE_CHECKING:
    from oxy.application.runtime import Runtime
    from oxy.cli._terminal import TerminalSink
    from oxy.events.otel import Tracing


def parse_variables(pairs: tuple[str, ...]) -> dict[str, Any]:
    """`-v key=value` pairs: a value that is valid JSON keeps its type (`5`, `true`, `[1,2]`)."""
    variables: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{pair!r} is not key=value", param_hint="-v/--var")
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw
        variables[key.strip()] = value
    return variables


@click.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.argument("prompt", required=False)
@click.option(
    "-v", "--var", "var_pairs", multiple=True, metavar="KEY=VALUE", help="A template or workflow variable."
)
@click.option("--database", help="Run a SQL file against this database instead of its default.")
@click.option("--model", help="Use this model (a name from config.yml) instead of the agent's.")
@click.option("--variant", help="Agents with `variants:`: run this one, not one picked by weight.")
@click.option(
    "--thread", "thread_id", help="Agents: continue this conversation thread (oxy chat lists them)."
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "jsonl"]),
    default="text",
    show_default=True,
    help="text for people; jsonl streams one event per line.",
)
@click.option(
    "--project", "project_dir", type=click.Path(path_type=Path, file_okay=False), help="The project folder."
)
@click.option(
    "--retry", is_flag=True, help="Workflows: resume the last failed run from the task that failed."
)
@click.option(
    "--retry-from",
    metavar="TASK",
    help="Workflows: re-run the last run from TASK on, reusing the tasks before it.",
)
@click.option(
    "--chart-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Save each chart the run makes in this folder (as --chart-format).",
)
@click.option(
    "--chart-format",
    type=click.Choice(["html", "png", "json"]),
    default="html",
    show_default=True,
    help="html (vega-embed page), png (needs vl-convert-python) or json (the Vega-Lite spec).",
)
@click.option(
    "--strict",
    is_flag=True,
    help="SQL files: a -v variable the query does not use is an error, not a warning.",
)
@click.option(
    "--with-models",
    is_flag=True,
    help="Start the model servers the run needs (config.yml `serve:`) and stop them after it.",
)
@yes_no_options
@cassette_options
@otel_options
def run(
    file: Path,
    prompt: str | None,
    var_pairs: tuple[str, ...],
    database: str | None,
    model: str | None,
    variant: str | None,
    thread_id: str | None,
    output_format: str,
    project_dir: Path | None,
    retry: bool,
    retry_from: str | None,
    chart_dir: Path | None,
    chart_format: str,
    strict: bool,
    with_models: bool,
    cassette_mode: str | None,
    cassette: Path | None,
    otel: bool,
    otel_file: Path | None,
    approve: bool,
    refuse: bool,
) -> None:
    """Run FILE: a .sql file, an *.agent.yml (with PROMPT) or a workflow."""
    from oxy.application.runner import run_file  # lazy: loaded when the command runs, not for --help
    from oxy.errors import ConfigError, OxyError  # lazy: loaded when the command runs, not for --help
    from oxy.execution.context import Caller  # lazy: loaded when the command runs, not for --help

    variables = parse_variables(var_pairs)
    try:
        if not file.exists():
            raise ConfigError(f"{file}: no such file")
        file = file.resolve()  # a path typed by a person is relative to the cwd, not the project root
        _agent_only(file, variant=variant, thread_id=thread_id)
        runtime = load_runtime(file=file, project_dir=project_dir)
        if file.name.endswith(".sql"):
            _check_sql_arguments(file, prompt, variables, runtime=runtime, strict=strict)
        history = _thread_history(runtime, file, thread_id)
        tape = None
        if cassette_mode is not None:
            from oxy.application.cassettes import use_cassette  # lazy: --record / --replay only

            tape = use_cassette(runtime, cassette, "record" if cassette_mode == "record" else "replay")
    except OxyError as exc:
        if output_format == "jsonl":  # a reader of the stream sees why it is empty, as one event
            from oxy.events.types import ErrorEvent, event_to_json  # lazy: on this error only

            click.echo(event_to_json(ErrorEvent(error_type=type(exc).__name__, message=str(exc))))
        fail(exc)
    sink, terminal, tracing = _sinks(runtime, output_format, chart_dir, chart_format, otel, otel_file)
    answers = input_channel(yes=approve, no=refuse)

    async def run_it() -> Any:
        result = await run_file(
            file,
            runtime=runtime,
            prompt=prompt,
            history=history,
            variables=variables,
            database=database,
            model=model,
            sink=sink,
            variant=variant,
            retry=retry,
            retry_from=retry_from,
            caller=Caller(user=os_user(), thread_id=thread_id),
            input_channel=answers,
        )
        if thread_id is not None and prompt:  # the turn joins the thread, while the store is open
            from oxy.application.threads import record_turn  # lazy: --thread only

            thread, question = thread_id, prompt
            await anyio.to_thread.run_sync(lambda: record_turn(runtime, thread, question, result.answer))
        return result

    async def main() -> Any:
        try:
            if with_models:
                async with runtime, _model_servers(runtime, file, model):
                    return await run_it()
            async with runtime:  # closes what the run kept open, the databases and the store
                return await run_it()
        finally:
            if tape is not None:
                tape.save()
            if "oxy.models" in sys.modules:  # close kept-alive model connections before the loop ends
                from oxy.models import aclose_clients  # lazy: loaded when the command runs, not for --help

                with anyio.CancelScope(shield=True):
                    await aclose_clients()

    try:
        result = anyio.run(main)
    finally:
        if terminal is not None:
            terminal.close()
        if tracing is not None and not tracing.shutdown():  # exports the spans still batched
            click.echo(
                "warning: the trace could not be exported (in 3 s); is the OTLP endpoint up?", err=True
            )
    if result.error is not None:
        fail(result.error)


def _sinks(
    runtime: Runtime,
    output_format: str,
    chart_dir: Path | None,
    chart_format: str,
    otel: bool,
    otel_file: Path | None,
) -> tuple[EventSink, TerminalSink | None, Tracing | None]:
    """Where the run's events go: the terminal or JSON lines, chart files, an OpenTelemetry trace."""
    sink: EventSink
    terminal = None
    if output_format == "jsonl":
        sink = JsonlSink(sys.stdout)
    else:
        from oxy.cli._terminal import TerminalSink  # lazy: loaded when the command runs, not for --help

        sink = terminal = TerminalSink()
    if chart_dir is not None:
        from oxy.cli._charts import ChartFileSink  # lazy: loaded when the command runs, not for --help

        sink = ChartFileSink(sink, folder=chart_dir, suffix=chart_format)
    tracing = None
    if otel or otel_file is not None:
        from oxy.application.tracing import start_tracing  # lazy: only when tracing is on
        from oxy.errors import OxyError  # lazy: loaded when the command runs, not for --help

        try:
            tracing = start_tracing(runtime.project.config, endpoint=otel, file=otel_file)
        except OxyError as exc:
            fail(exc)
        sink = TeeSink([sink, tracing.sink()])
    return sink, terminal, tracing


def _agent_only(file: Path, *, variant: str | None, thread_id: str | None) -> None:
    """`--variant` and `--thread` are for agents: a `ConfigError` for any other file."""
    from oxy.errors import ConfigError  # lazy: loaded when the command runs, not for --help

    if file.name.endswith(".agent.yml"):
        return
    if variant is not None:
        raise ConfigError(f"{file.name}: --variant picks among an agent's `variants:`; this is not an agent")
    if thread_id is not None:
        raise ConfigError(
            f"{file.name}: --thread continues a conversation with an agent; this is not an agent"
        )


def _thread_history(runtime: Runtime, file: Path, thread_id: str | None) -> list[Any]:
    """`--thread ID`: the messages of the conversation the run continues."""
    if thread_id is None:
        return []
    from oxy.application.runner import relative_name  # lazy: --thread only
    from oxy.application.threads import thread_history  # lazy: --thread only

    return thread_history(runtime, thread_id, agent=relative_name(file, runtime.root))


def os_user() -> str | None:
    """Who runs the command, for the run's caller (`None` where the OS cannot say)."""

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container), no USER/LOGNAME
        return None


def _model_servers(runtime: Runtime, file: Path, model: str | None) -> AbstractAsyncContextManager[Any]:
    """`--with-models`: the servers of the models the run needs: an agent's own model (or `--model`), or
    for any other file every model with `serve:`."""
    from oxy.models.serving import ModelFleet, served_models  # lazy: only --with-models needs it

    served = served_models(runtime.project.config.models)
    if file.name.endswith(".agent.yml"):
        from oxy.application.runner import relative_name  # lazy: loaded when the command runs

        agent = runtime.project.agent(relative_name(file, runtime.root))
        name = model or getattr(agent, "model", None)
        served = [m for m in served if m.name == name]
    return ModelFleet(served, project_root=runtime.root)


def _check_sql_arguments(
    file: Path, prompt: str | None, variables: dict[str, Any], *, runtime: Runtime, strict: bool
) -> None:
    """A SQL file takes variables, not a prompt; a variable its query never reads is probably mistyped."""
    from oxy.application.runner import unused_sql_variables  # lazy: SQL runs only
    from oxy.errors import ConfigError  # lazy: loaded when the command runs, not for --help

    if prompt is not None:
        raise ConfigError(
            f"{file.name} is a SQL file: it takes no prompt ({prompt!r}); pass values for its template "
            "with -v KEY=VALUE, or ask an agent"
        )
    for message in unused_sql_variables(file, variables, runtime=runtime):
        if strict:
            raise ConfigError(message)
        click.echo(f"warning: {message} (--strict makes this an error)", err=True)
