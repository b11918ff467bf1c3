"""`type: workspace`: the tools a coding agent uses, confined to one folder, behind permission rules.

The model sees each chosen tool by its own name, with arguments as coding agents take them:
`bash(command, timeout?)`, `read(path, offset?, limit?)`, `write(path, content)`,
`edit(path, old_string, new_string, replace_all?)`, `glob(pattern, path?)`, `grep(pattern, path?, glob?)`,
`webfetch(url)`, `todo(items)`, `question(question, options?)`, `task_start(command)`,
`task_output(id, lines?)`, `task_stop(id)` and `lsp(operation, path?, line?, column?, query?)`.
Paths are relative to the root and confined to it (`Workspace`). Every call passes the permission gate
first; every result is cut to `max_output_chars`, the cut marked.

What lives longer than a run (background tasks, language servers, to-do lists) is the workspace's
`WorkspaceServices`, one per root, kept open by the runtime and closed with it.
"""

from __future__ import annotations

import functools
import os
import shlex
from collections.abc import AsyncGenerator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Annotated, Literal

import anyio
import httpx
from pydantic import BaseModel, Field

from oxy.config.permissions import Permissions
from oxy.config.tools import WorkspaceTool
from oxy.errors import ConfigError, ToolError
from oxy.execution.context import ExecutionContext
from oxy.models.messages import ToolDefinition
from oxy.tools.base import FunctionTool, Tool
from oxy.tools.registry import ToolBuild, tool_type
from oxy.tools.toolset import Toolset
from oxy.tools.workspace import files, web
from oxy.tools.workspace.gate import ask_question, authorize
from oxy.tools.workspace.lsp import LanguageServer, Location
from oxy.tools.workspace.paths import Workspace
from oxy.tools.workspace.processes import run_command
from oxy.tools.workspace.services import LANGUAGES, TodoItem, WorkspaceServices, identity, owner_of

__all__ = ["WorkspaceToolset", "cap"]


def cap(text: str, max_chars: int) -> str:
    """`text` cut to about `max_chars`: its head and its tail, the cut marked in between."""
    if len(text) <= max_chars:
        return text
    head = max_chars * 2 // 3
    tail = max_chars - head
    cut = len(text) - head - tail
    return f"{text[:head]}\n[… {cut:,} characters cut …]\n{text[-tail:]}"


class Todo(BaseModel):
    content: str = Field(description="What to do, in a few words.")
    status: Literal["pending", "in_progress", "completed"] = "pending"


Path_ = Annotated[str, Field(description="A path relative to the workspace root.")]
Line = Annotated[int | None, Field(description="1-based line number, as an editor shows it.")]
Column = Annotated[int | None, Field(description="1-based column of the symbol on that line.")]


class WorkspaceToolset(Toolset):
    """The chosen workspace tools of one agent, with its permissions."""

    def __init__(self, config: WorkspaceTool, *, build: ToolBuild) -> None:
        self.config = config
        root = build.runtime.root / config.root
        self.workspace = Workspace.at(root)
        self.permissions = build.permissions or Permissions()
        self._hiding = [r for r in self.permissions.rules() if r.tool == "read" and r.decision != "allow"]
        self.file = build.file
        self._per_run: dict[str, tuple[WorkspaceServices, int]] = {}
        tools = self._tools()
        self.tools: dict[str, Tool] = {name: tools[name] for name in config.tools}
        self._definitions = tuple(tool.definition() for tool in self.tools.values())

    # -- the toolset protocol

    async def for_run(self, ctx: ExecutionContext, stack: AsyncExitStack) -> Toolset:
        if not self.workspace.root.is_dir():
            raise ConfigError(
                f"the workspace folder {self.config.root!r} does not exist; create it in the project "
                "or set the workspace tool's `root`",
                file=self.file,
            )
        if ctx.handle is None or not ctx.runtime.is_open:  # no runtime to keep them: this run's own
            held = self._per_run.get(ctx.run_id)
            if held is None:
                services = await stack.enter_async_context(WorkspaceServices(self.workspace.root))
                held = (services, 0)
            self._per_run[ctx.run_id] = (held[0], held[1] + 1)
            stack.callback(self._release, ctx.run_id)
        return self

    def _release(self, run_id: str) -> None:
        services, count = self._per_run[run_id]
        if count <= 1:
            del self._per_run[run_id]
        else:
            self._per_run[run_id] = (services, count - 1)

    async def services(self, ctx: ExecutionContext) -> WorkspaceServices:
        held = self._per_run.get(ctx.run_id)
        if held is not None:
            return held[0]
        return await ctx.runtime.keep_open(
            WorkspaceServices(self.workspace.root), key=identity(self.workspace.root)
        )

    async def get_tools(self, ctx: ExecutionContext) -> Sequence[ToolDefinition]:
        return self._definitions

    async def call_tool(self, ctx: ExecutionContext, name: str, arguments: str) -> str:
        try:
            result = await self.tools[name].call(ctx, arguments)
        except OSError as exc:  # the file system said no (a file where a folder should be, a long name)
            raise ToolError(f"{name} failed: {exc.strerror or exc}") from None
        except UnicodeError as exc:
            raise ToolError(f"{name} failed: the text cannot be written as UTF-8 ({exc})") from None
        except httpx.HTTPError as exc:
            raise ToolError(f"{name} failed: {type(exc).__name__}: {exc}") from None
        return cap(result, self.config.max_output_chars)

    # -- helpers

    async def _gate(self, ctx: ExecutionContext, tool: str, subject: str | None, what: str) -> None:
        await authorize(ctx, self.permissions, tool=tool, subject=subject, what=what)

    def _target(self, path: str) -> tuple[Path, str]:
        """The file `path` names (resolved, links followed, confined) and what rules match: that
        path relative to the root."""
        target = self.workspace.resolve(path)
        return target, self.workspace.relative(target)

    def _hidden(self, relative: str) -> bool:
        """Files `glob`, `grep` and `lsp` do not show: those the rules deny to `read`, or name to be
        asked about (a file asked only because no rule matches it is shown). Asked for every file a
        search walks: only the deny and ask rules for `read` are tried."""
        return any(rule.matches("read", relative) for rule in self._hiding)

    def env(self) -> dict[str, str]:
        """The environment commands get: only the variables the toolset lists."""
        return {name: os.environ[name] for name in self.config.env if name in os.environ}

    def _tools(self) -> dict[str, Tool]:
        tools = [
            FunctionTool(self._read, name="read", description=_READ),
            FunctionTool(self._write, name="write", description=_WRITE),
            FunctionTool(self._edit, name="edit", description=_EDIT),
            FunctionTool(self._glob, name="glob", description=_GLOB),
            FunctionTool(self._grep, name="grep", description=_GREP),
            FunctionTool(self._bash, name="bash", description=_BASH),
            FunctionTool(self._webfetch, name="webfetch", description=_WEBFETCH),
            FunctionTool(self._todo, name="todo", description=_TODO),
            FunctionTool(self._question, name="question", description=_QUESTION),
            FunctionTool(self._task_start, name="task_start", description=_TASK_START),
            FunctionTool(self._task_output, name="task_output", description=_TASK_OUTPUT),
            FunctionTool(self._task_stop, name="task_stop", description=_TASK_STOP),
            FunctionTool(self._lsp, name="lsp", description=_LSP),
        ]
        return {tool.name: tool for tool in tools}

    # -- the tools

    async def _read(
        self,
        ctx: ExecutionContext,
        path: Path_,
        offset: Annotated[int, Field(ge=1, description="The first line to read, 1-based.")] = 1,
        limit: Annotated[int | None, Field(ge=1, description="How many lines (default 2000).")] = None,
    ) -> str:
        target, subject = self._target(path)
        await self._gate(ctx, "read", subject, f"read {subject}")
        work = functools.partial(files.read_file, self.workspace, target, subject, offset=offset, limit=limit)
        return await anyio.to_thread.run_sync(work)

    async def _write(self, ctx: ExecutionContext, path: Path_, content: str) -> str:
        target, subject = self._target(path)
        await self._gate(ctx, "write", subject, f"write {subject} ({len(content):,} characters)")
        return await anyio.to_thread.run_sync(
            functools.partial(files.write_file, self.workspace, target, subject, content)
        )

    async def _edit(
        self, ctx: ExecutionContext, path: Path_, old_string: str, new_string: str, replace_all: bool = False
    ) -> str:
        target, subject = self._target(path)
        await self._gate(ctx, "edit", subject, f"edit {subject}")
        work = functools.partial(
            files.edit_file,
            self.workspace,
            target,
            subject,
            old_string=old_string,
            new_string=new_string,
            replace_all=replace_all,
        )
        return await anyio.to_thread.run_sync(work)

    async def _glob(self, ctx: ExecutionContext, pattern: str, path: Path_ = ".") -> str:
        _, subject = self._target(path)
        await self._gate(ctx, "glob", subject, f"list {pattern} under {subject}")
        work = functools.partial(files.glob_files, self.workspace, pattern, path=path, hidden=self._hidden)
        return await anyio.to_thread.run_sync(work)

    async def _grep(
        self, ctx: ExecutionContext, pattern: str, path: Path_ = ".", glob: str | None = None
    ) -> str:
        _, subject = self._target(path)
        await self._gate(ctx, "grep", subject, f"search {subject} for {pattern!r}")
        work = functools.partial(
            files.grep_files, self.workspace, pattern, path=path, glob=glob, hidden=self._hidden
        )
        return await anyio.to_thread.run_sync(work)

    async def _bash(
        self,
        ctx: ExecutionContext,
        command: str,
        timeout: Annotated[float | None, Field(gt=0, description="Seconds it may run.")] = None,
    ) -> str:
        _check_length(command)
        await self._gate(ctx, "bash", command, f"run `{command}`")
        limit = min(timeout or self.config.timeout, self.config.timeout)
        result = await run_command(
            command,
            cwd=self.workspace.root,
            env=self.env(),
            timeout=limit,
            max_chars=self.config.max_output_chars,
        )
        if result.timed_out:
            end = f"[timed out after {limit:g} s; the command was stopped]"
        else:
            end = f"[exit code {result.exit_code}]"
        return f"{result.output.rstrip()}\n{end}" if result.output.strip() else end

    async def _webfetch(self, ctx: ExecutionContext, url: str) -> str:
        web.allowed(url, self.config.allowed_hosts)
        await self._gate(ctx, "webfetch", url, f"fetch {url}")
        return await web.fetch(url, hosts=self.config.allowed_hosts, max_bytes=self.config.max_fetch_bytes)

    async def _todo(
        self,
        ctx: ExecutionContext,
        items: Annotated[list[Todo], Field(description="The whole list, replacing the last one.")],
    ) -> str:
        await self._gate(ctx, "todo", None, "update the to-do list")
        services = await self.services(ctx)
        services.todos[owner_of(ctx)] = [TodoItem(content=i.content, status=i.status) for i in items]
        marks = {"pending": "[ ]", "in_progress": "[~]", "completed": "[x]"}
        if not items:
            return "The to-do list is empty."
        return "\n".join(f"{marks[i.status]} {i.content}" for i in items)

    async def _question(
        self,
        ctx: ExecutionContext,
        question: Annotated[str, Field(description="What to ask the person, in one or two sentences.")],
        options: Annotated[list[str] | None, Field(description="Suggested answers, if any.")] = None,
    ) -> str:
        await self._gate(ctx, "question", None, "ask a question")
        return await ask_question(ctx, question, options)

    async def _task_start(
        self,
        ctx: ExecutionContext,
        command: Annotated[str, Field(description="The long-running command, e.g. a dev server.")],
    ) -> str:
        _check_length(command)
        await self._gate(ctx, "task_start", command, f"start the background task `{command}`")
        services = await self.services(ctx)
        info = await services.start_task(ctx, command, env=self.env())
        return f"Started task {info.id} (pid {info.pid}): `{command}`. Read its output with task_output."

    async def _task_output(
        self,
        ctx: ExecutionContext,
        id: Annotated[str, Field(description="The task's id, from task_start.")],
        lines: Annotated[int, Field(ge=1, le=1000, description="How many of its last lines.")] = 50,
    ) -> str:
        await self._gate(ctx, "task_output", None, f"read the output of task {id}")
        services = await self.services(ctx)
        return services.tasks.output(id, lines=lines, owner=owner_of(ctx))

    async def _task_stop(
        self, ctx: ExecutionContext, id: Annotated[str, Field(description="The task's id.")]
    ) -> str:
        await self._gate(ctx, "task_stop", None, f"stop task {id}")
        services = await self.services(ctx)
        info = await services.stop_task(ctx, id)
        return f"Stopped task {info.id} (exit code {info.exit_code})."

    async def _lsp(
        self,
        ctx: ExecutionContext,
        operation: Literal["definition", "references", "hover", "workspace_symbols"],
        path: Annotated[str | None, Field(description="The file, for definition/references/hover.")] = None,
        line: Line = None,
        column: Column = None,
        query: Annotated[str | None, Field(description="A symbol name, for workspace_symbols.")] = None,
    ) -> str:
        if operation == "workspace_symbols":
            return await self._symbols(ctx, query)
        if path is None or line is None or column is None:
            raise ToolError(f"{operation} needs `path`, `line` and `column` (1-based)")
        target = self.workspace.resolve(path)
        subject = self.workspace.relative(target)
        await self._gate(ctx, "lsp", subject, f"ask the language server for {operation} at {subject}:{line}")
        if not target.is_file():
            raise ToolError(f"{path!r} is not a file")
        async with self._server(ctx, LANGUAGES.get(target.suffix.lower()), path) as server:
            if operation == "hover":
                text = await server.hover(target, line, column)
                return text or f"Nothing is known about {subject}:{line}:{column}."
            ask = server.definition if operation == "definition" else server.references
            found = await ask(target, line, column)
        if not found:
            return f"No {operation} found at {subject}:{line}:{column}."
        return "\n".join(self._location(item) for item in found)

    async def _symbols(self, ctx: ExecutionContext, query: str | None) -> str:
        if not query:
            raise ToolError("workspace_symbols needs `query`: a symbol name or part of one")
        await self._gate(ctx, "lsp", ".", f"search the workspace's symbols for {query!r}")
        languages = list(self.config.lsp)
        if not languages:
            raise ToolError("no language server is configured (the workspace tool's `lsp:`)")
        async with self._server(ctx, languages[0], None) as server:
            symbols = await server.workspace_symbols(query)
        if not symbols:
            return f"No symbol matches {query!r}."
        return "\n".join(f"{s.kind} {s.name} at {self._location(s.location)}" for s in symbols[:100])

    def _location(self, item: Location) -> str:
        """`path:line:column  text`; a place outside the workspace (links followed), or in a file the
        rules keep from `read`, without its text."""
        where = f"{item.path}:{item.line}:{item.column}"
        try:
            relative = self.workspace.relative(self.workspace.resolve(item.path))
        except ToolError:
            return f"{where} (outside the workspace)"
        if self._hidden(relative) or not item.text:
            return where
        return f"{where}  {item.text}"

    @asynccontextmanager
    async def _server(
        self, ctx: ExecutionContext, language: str | None, path: str | None
    ) -> AsyncGenerator[LanguageServer]:
        """The language server for `language` in this workspace: started on first use and kept by the
        runtime (stopped when it closes), or, in a runtime that is not open, for this call only."""
        command = self.config.lsp.get(language) if language is not None else None
        if language is None or command is None:
            known = ", ".join(self.config.lsp) or "none"
            what = f"{path!r}" if path is not None else "this workspace"
            raise ToolError(
                f"no language server is configured for {what} (configured: {known}); add one under the "
                "workspace tool's `lsp:`"
            )
        argv = shlex.split(command)
        if not argv:
            raise ToolError(f"the lsp command for {language} is empty")
        # The server runs in oxy's environment: it is the project's configured program, not a command
        # a model wrote.
        server = LanguageServer(argv, root=self.workspace.root, language_id=language)
        if ctx.handle is not None and ctx.runtime.is_open:
            key = ("lsp", str(self.workspace.root), language, command)
            kept = await ctx.runtime.keep_open(server, key=key)
            if not kept.alive:  # it died (a crash, killed for memory): start another
                ctx.runtime.discard(key)
                kept = await ctx.runtime.keep_open(server, key=key)
            yield kept
        else:
            async with server:
                yield server


MAX_COMMAND_CHARS = 10_000


def _check_length(command: str) -> None:
    if len(command) > MAX_COMMAND_CHARS:
        raise ToolError(
            f"the command is {len(command):,} characters long, more than {MAX_COMMAND_CHARS:,}; write a "
            "script file and run that"
        )


@tool_type("workspace")
def _build(config: WorkspaceTool, build: ToolBuild) -> Toolset:
    return WorkspaceToolset(config, build=build)


_READ = (
    "Read a text file of the workspace, its lines numbered. `offset` is the first line (1-based), "
    "`limit` how many lines (default 2000)."
)
_WRITE = "Write a file of the workspace (created, or replaced whole). Read a file before replacing it."
_EDIT = (
    "Replace `old_string` with `new_string` in a file, exactly (indentation included). `old_string` "
    "must occur once, or pass `replace_all`."
)
_GLOB = "List the workspace's files matching a glob pattern (`**/*.py`), under `path` (default: the root)."
_GREP = (
    "Search file contents with a regular expression; answers `path:line:text`. `glob` narrows the "
    "files (`*.py`)."
)
_BASH = (
    "Run a shell command in the workspace root and get its output and exit code. `timeout` in seconds. "
    "For long-running processes (servers), use task_start."
)
_WEBFETCH = "Fetch a web page (from the allowed hosts) as text."
_TODO = "Keep your to-do list for this task: send the whole list each time, with each item's status."
_QUESTION = (
    "Ask the person a question and wait for the answer; give `options` when there are a few likely answers."
)
_TASK_START = "Start a long-running command (a dev server) in the background; returns its id."
_TASK_OUTPUT = "The last `lines` lines of a background task's output, and whether it is still running."
_TASK_STOP = "Stop a background task."
_LSP = (
    "Ask the language server: `definition`, `references` or `hover` of the symbol at `path`, `line`, "
    "`column` (1-based), or `workspace_symbols` matching `query`."
)
