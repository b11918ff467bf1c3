"""`oxy chat AGENT`: a conversation in the terminal, kept as a thread in the project's run store."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import anyio.from_thread
import click

from oxy.cli._errors import fail
from oxy.cli._input import TerminalInput, input_channel, yes_no_options
from oxy.cli._options import project_option

if TYPE_CHECKING:
    from anyio.from_thread import BlockingPortal

    from oxy.application.runtime import Runtime
    from oxy.execution.input import InputChannel
    from oxy.models.messages import Message

HELP = "/new starts a new conversation, /threads lists this agent's, /exit (or Ctrl-D) leaves."


@click.command()
@click.argument("agent", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--thread", "thread_id", help="Continue this thread (its id, from /threads or oxy serve).")
@project_option
@yes_no_options
def chat(agent: Path, thread_id: str | None, project_dir: Path | None, approve: bool, refuse: bool) -> None:
    """Talk with AGENT (an *.agent.yml): answers stream as they are written, tool calls show, and the
    conversation is kept as a thread; --thread ID picks one up again."""
    from oxy.application.runner import relative_name  # lazy: loaded when the command runs, not for --help
    from oxy.application.threads import thread_history  # lazy: loaded when the command runs, not for --help
    from oxy.cli._project import load_runtime  # lazy: loaded when the command runs, not for --help
    from oxy.errors import ConfigError, OxyError  # lazy: loaded when the command runs, not for --help

    try:
        if not agent.name.endswith(".agent.yml"):
            raise ConfigError(f"{agent}: oxy chat talks with an agent (an *.agent.yml file)")
        if not agent.exists():
            raise ConfigError(f"{agent}: no such file")
        agent = agent.resolve()
        runtime = load_runtime(file=agent, project_dir=project_dir)
        rel = relative_name(agent, runtime.root)
        runtime.project.agent(rel)  # a broken agent is one error now, not at the first question
        history = thread_history(runtime, thread_id, agent=rel) if thread_id is not None else []
    except OxyError as exc:
        fail(exc)
    session = _Chat(runtime, agent, rel, thread_id, history)
    session.answers = input_channel(yes=approve, no=refuse)
    click.echo(f"Chatting with {rel}" + (f" (thread {thread_id})" if thread_id else "") + f". {HELP}")
    try:
        session.loop()
    except KeyboardInterrupt:
        click.echo()
    finally:
        runtime.close()
    if session.thread_id is not None:
        click.echo(f"Thread {session.thread_id}: oxy chat {rel} --thread {session.thread_id}")


class _Chat:
    def __init__(
        self, runtime: Runtime, agent: Path, rel: str, thread_id: str | None, history: list[Message]
    ) -> None:
        from oxy.cli.run import os_user  # lazy: loaded when the command runs, not for --help

        self.runtime = runtime
        self.agent = agent
        self.rel = rel
        self.thread_id = thread_id
        self.history = history
        self.answers: InputChannel | None = None
        """Who approves tool calls and answers questions: the person at the terminal, for the session."""
        self.user = os_user()
        self.portal: BlockingPortal | None = None

    def loop(self) -> None:
        """Read and answer questions until /exit or Ctrl-D; the runtime stays open for the session (in
        a portal's event loop), so what a thread started (background tasks, language servers) lives
        on between its turns, and stops when the conversation is left."""
        from oxy.models import aclose_clients  # lazy: loaded when the command runs

        with anyio.from_thread.start_blocking_portal() as portal:
            self.portal = portal
            try:
                with portal.wrap_async_context_manager(self.runtime):
                    try:
                        self._loop()
                    finally:
                        self._leave_thread()
            finally:
                portal.call(aclose_clients)

    def _leave_thread(self) -> None:
        """Stop the background tasks of the conversation being left."""
        from oxy.application.threads import close_thread  # lazy: loaded when the command runs

        if self.thread_id is not None and self.portal is not None:
            stopped = self.portal.call(close_thread, self.runtime, self.thread_id)
            for task in stopped:
                click.echo(f"Stopped background task {task.id}: {task.command}")

    def _loop(self) -> None:
        while True:
            try:
                line = input("you › ").strip()
            except EOFError:
                click.echo()
                return
            if not line:
                continue
            if line in ("/exit", "/quit"):
                return
            if line.startswith("/"):
                self.command(line)
            else:
                self.turn(line)

    def command(self, line: str) -> None:
        from oxy.application.threads import list_threads  # lazy: loaded when the command runs

        if line == "/new":
            self._leave_thread()
            if isinstance(self.answers, TerminalInput):
                self.answers.forget()
            self.thread_id, self.history = None, []
            click.echo("New conversation.")
        elif line == "/threads":
            threads = list_threads(self.runtime, agent=self.rel)
            for thread in threads:
                mark = "*" if thread.id == self.thread_id else " "
                click.echo(f"{mark} {thread.id}  {thread.updated_at:%Y-%m-%d %H:%M}  {thread.title or ''}")
            if not threads:
                click.echo("No conversations with this agent yet.")
        else:
            click.echo(f"Unknown command {line.split()[0]!r}. {HELP}")

    def turn(self, question: str) -> None:
        """Ask, show the answer as it streams, keep the turn; Ctrl-C stops the answer, not the chat."""
        from oxy.application.threads import new_thread, record_turn, thread_history  # lazy: as above
        from oxy.errors import OxyError  # lazy: loaded when the command runs

        if self.thread_id is None:
            self.thread_id = new_thread(self.runtime, agent=self.rel, title=question)
        try:
            result = self.ask(question)
        except KeyboardInterrupt:
            click.echo("\n(stopped)")
            result = None
        except OxyError as exc:  # the agent did not build (a model it names is gone...): say so, go on
            click.echo(f"error: {exc}", err=True)
            result = None
        if result is not None and result.error is not None:
            click.echo(f"error: {result.error}", err=True)
        record_turn(self.runtime, self.thread_id, question, result.answer if result is not None else None)
        self.history = thread_history(self.runtime, self.thread_id, agent=self.rel)

    def ask(self, question: str) -> Any:
        """One turn, run in the session's event loop; Ctrl-C cancels it there and is raised here."""
        from oxy.application.runner import run_file  # lazy: loaded when the command runs
        from oxy.cli._terminal import TerminalSink  # lazy: loaded when the command runs
        from oxy.execution.context import Caller  # lazy: loaded when the command runs

        assert self.portal is not None
        sink = TerminalSink()

        ended = threading.Event()

        async def main() -> Any:
            try:
                return await run_file(
                    self.agent,
                    runtime=self.runtime,
                    prompt=question,
                    history=self.history,
                    sink=sink,
                    caller=Caller(user=self.user, thread_id=self.thread_id),
                    input_channel=self.answers,
                )
            finally:
                ended.set()

        future = self.portal.start_task_soon(main)
        try:
            return future.result()
        except KeyboardInterrupt:
            future.cancel()  # cancels the run in the portal; wait until it has closed what it opened
            ended.wait(timeout=10)
            raise
        finally:
            sink.close()
