"""The `oxy` command line. Subcommands load lazily, so `oxy --version` imports almost nothing."""

from __future__ import annotations

import importlib
from typing import Any

import click

from oxy import __version__

# name -> (module, attribute, one-line help shown by `oxy --help` without importing the module)
_COMMANDS: dict[str, tuple[str, str, str]] = {
    "build": ("oxy.cli.build", "build", "Index the files the project's retrieval tools search."),
    "chat": (
        "oxy.cli.chat",
        "chat",
        "Talk with an agent in the terminal; conversations are kept as threads.",
    ),
    "keys": ("oxy.cli.keys", "keys", "Create, list and revoke API keys for oxy serve."),
    "make": ("oxy.cli.make", "make", "Create a project around a data file, folder or .duckdb file."),
    "memory": ("oxy.cli.memory", "memory", "List and forget what agents remember for their users."),
    "tasks": ("oxy.cli.tasks", "tasks", "List the background tasks agents started (dev servers)."),
    "mcp": ("oxy.cli.mcp", "mcp", "Serve the project over MCP; list an MCP server's tools."),
    "models": ("oxy.cli.models", "models", "Start, check and supervise the model servers agents use."),
    "run": ("oxy.cli.run", "run", "Run a SQL file, an agent or a workflow."),
    "serve": ("oxy.cli.serve", "serve", "Serve the project's agents and workflows over HTTP."),
    "test": ("oxy.cli.test", "test", "Run agents' test cases, check the answers, report pass rates."),
    "validate": ("oxy.cli.validate", "validate", "Check every project file and report each problem."),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported only when they are called (or asked for help)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name and not name.startswith("-") and name not in _COMMANDS:
            import difflib  # lazy: only a mistyped command needs it

            close = difflib.get_close_matches(name, list(_COMMANDS), n=1)
            if close:
                ctx.fail(f"No such command {name!r}. Did you mean {close[0]!r}?")
        return super().resolve_command(ctx, args)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = _COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module_name, attr, _ = entry
        command = getattr(importlib.import_module(module_name), attr)
        assert isinstance(command, click.Command)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        # lazy: loaded when a command runs: `oxy --version` stays cheap
        from oxy.cli._errors import as_click_error
        from oxy.errors import OxyError  # lazy: loaded when a command runs: `oxy --version` stays cheap

        try:
            return super().invoke(ctx)
        except OxyError as exc:
            raise as_click_error(exc) from None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, _COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="oxy", message="%(prog)s %(version)s")
def cli() -> None:
    """Run AI agents and workflows declared in YAML."""


def main(argv: list[str] | None = None) -> Any:
    """Console-script entry point."""
    # lazy: loaded when a command runs: `oxy --version` stays cheap
    from oxy.cli._errors import leave_now_if_slow, run_cli

    try:
        result = run_cli(cli, argv)
    except SystemExit as exc:
        leave_now_if_slow(exc.code)
        raise
    leave_now_if_slow(0)
    return result
