"""Checks across files: names that must exist in config.yml, files that must exist, names that must be unique.

Each check returns `Findings`: errors (the file cannot work) and warnings (it can, but something it points
at is missing and only matters when that part runs). Warnings are:

- an agent test whose `target` agent file is missing, or whose `judge_model` is not in config.yml;
- a routing agent's `routes` glob that matches no file (routes may name integrations or files to come);
- `defaults.agent` naming a missing file (only `oxy run` without a file needs it);
- an `execute_sql` task's `sql_file` that is missing: files may be written at run time by earlier
  tasks' `export:` or `cache:`, and the task fails with the same message if it is still missing then.

Paths are relative to the project root and must stay inside it: one that leaves it (through `..`, an
absolute path elsewhere or a symbolic link) is always an error. Paths holding a template (`{{ ... }}`) are checked
when run.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from oxy.config._issues import ConfigErrors, unknown_name
from oxy.config._kinds import FileKind, classify, walk_project
from oxy.config._paths import confine, confine_glob
from oxy.config._yaml import DataPath, YamlDocument
from oxy.config.mcp import mcp_server_names, project_mcp_servers
from oxy.config.python_refs import resolve_callable
from oxy.config.secrets import is_env_var_name, redact_url, url_secrets
from oxy.config.template_refs import (
    TEMPLATE_BUILTINS,
    check_database_refs,
    close_unknown_names,
    template_strings,
)
from oxy.config.walk import walk_tasks
from oxy.errors import ConfigError

# File models are imported where they are used: loading config.yml to run a `.sql` file builds no agent
# models, and running an agent builds no workflow ones (this is on `oxy run`'s cold-start path).
if TYPE_CHECKING:
    from oxy.config.agent import AgentConfig, DefaultAgentConfig
    from oxy.config.agent_test import AgentTestFile
    from oxy.config.evals import EvalConfig
    from oxy.config.project import ProjectConfig
    from oxy.config.sql_file import SqlFile
    from oxy.config.tools import McpTool
    from oxy.config.workflow import TaskConfig, WorkflowConfig

__all__ = [
    "Findings",
    "KnownNames",
    "RawNames",
    "check_agent",
    "check_agent_test",
    "check_config",
    "check_config_names",
    "check_sql_file",
    "check_workflow",
]

_FILE_KINDS = {"agent": FileKind.AGENT, "workflow": FileKind.WORKFLOW, "sql": FileKind.SQL}

_KIND_SUFFIX = {
    FileKind.AGENT: "*.agent.yml",
    FileKind.WORKFLOW: "*.workflow.yml, *.procedure.yml or *.automation.yml",
    FileKind.SQL: "*.sql",
}


class KnownNames(Protocol):
    """The database and model names of config.yml: a `ProjectConfig`, or `RawNames` when it is broken."""

    @property
    def database_names(self) -> list[str]: ...

    @property
    def model_names(self) -> list[str]: ...


@dataclass(frozen=True)
class RawNames:
    """Names read straight from config.yml's data, so one broken entry does not hide every name check."""

    database_names: list[str]
    model_names: list[str]

    @classmethod
    def from_data(cls, data: Any) -> RawNames:
        return cls(_raw_names(data, "databases"), _raw_names(data, "models"))


def _raw_names(data: Any, key: str) -> list[str]:
    entries: Any = data.get(key) if isinstance(data, dict) else None
    if not isinstance(entries, list):
        return []
    names = [entry.get("name") for entry in entries if isinstance(entry, dict)]
    return list(dict.fromkeys(name for name in names if isinstance(name, str)))


@dataclass
class Findings:
    errors: list[ConfigError] = field(default_factory=list[ConfigError])
    warnings: list[ConfigError] = field(default_factory=list[ConfigError])


class _Checker:
    def __init__(self, root: Path, names: KnownNames | None, doc: YamlDocument) -> None:
        self.root = root
        self.names = names
        self.doc = doc
        self.found = Findings()

    def report(self, message: str, path: DataPath, *, warn: bool = False) -> None:
        (self.found.warnings if warn else self.found.errors).append(self.doc.error(message, path))

    def database(self, name: str, path: DataPath) -> None:
        if self.names is not None and name not in self.names.database_names:
            self.report(unknown_name("Database", name, self.names.database_names), path)

    def model(self, name: str, path: DataPath, *, warn: bool = False) -> None:
        if self.names is not None and name not in self.names.model_names:
            self.report(unknown_name("Model", name, self.names.model_names), path, warn=warn)

    def templates(self, data: Any, *, known: set[str] | None = None, variables: Iterable[str] = ()) -> None:
        """Templates in `data` read databases and attributes that exist, and (given `known`) no name
        that is a typo of a known one."""
        databases = self.names.database_names if self.names is not None else None
        for path, text in template_strings(data):
            check_database_refs(text, path, databases, self.report)
            for name, close in close_unknown_names(text, known or ()):
                what = "variable" if close in set(variables) else "name"
                self.report(
                    f"template reads {name!r}, which nothing defines — did you mean the {what} {close!r}?",
                    path,
                )

    def inside(self, what: str, ref: str, path: DataPath) -> bool:
        """Whether a static path stays inside the project folder; one that leaves it is always an error."""
        if _templated(ref):
            return True
        try:
            confine(self.root, ref, what=what)
        except ConfigError as exc:
            self.report(exc.message, path)
            return False
        return True

    def file(
        self, what: str, ref: str, path: DataPath, *, kinds: Sequence[FileKind] = (), warn: bool = False
    ) -> None:
        if _templated(ref) or not self.inside(what, ref, path):
            return
        target = self.root / ref
        if not target.is_file():
            hint = _closest(ref, self.root, kinds)
            self.report(
                f"{what} {ref!r} not found (paths are relative to the project root){hint}", path, warn=warn
            )
        elif kinds and classify(target.name) not in kinds:
            expected = " or ".join(_KIND_SUFFIX[k] for k in kinds)
            article = "an" if kinds[0].value[:1] in "aeiou" else "a"
            self.report(
                f"{what} {ref!r} is not {article} {kinds[0].value} file ({expected})", path, warn=warn
            )

    def python_function(self, spec: str, path: DataPath) -> None:
        """`package.module:callable` imports from the project folder and names a callable."""
        try:
            resolve_callable(spec, root=self.root)
        except ConfigError as exc:
            self.report(exc.message, path)

    def glob(self, what: str, pattern: str, path: DataPath, *, warn: bool = False) -> None:
        if _templated(pattern):
            return
        try:
            matched = confine_glob(self.root, pattern, what=what)
        except ConfigError as exc:
            self.report(exc.message, path)
            return
        if not matched:
            self.report(
                f"{what} {pattern!r} matches no file (globs are relative to the project root)",
                path,
                warn=warn,
            )

    def unique(self, noun: str, named: Iterable[tuple[str, DataPath]]) -> None:
        first: dict[str, DataPath] = {}
        for name, path in named:
            if name in first:
                pos = self.doc.position(first[name])
                where = f" (first at line {pos.line})" if pos is not None else ""
                self.report(f"duplicate {noun} name {name!r}{where}; {noun} names must be unique", path)
            else:
                first[name] = path

    def evals(self, tests: Sequence[EvalConfig]) -> None:
        from oxy.config.evals import CustomEval  # lazy: file models load when a file of their kind is checked

        for i, test in enumerate(tests):
            if isinstance(test, CustomEval):
                self.file("dataset", test.dataset, ("tests", i, "dataset"))


def check_config_names(doc: YamlDocument) -> Findings:
    """Database and model names are unique; read from the data, so it works on a broken config.yml too."""
    check = _Checker(Path(), None, doc)
    for key, noun in (("databases", "database"), ("models", "model")):
        entries: Any = doc.data.get(key) if isinstance(doc.data, dict) else None
        if isinstance(entries, list):
            named = [
                (entry["name"], (key, i, "name"))
                for i, entry in enumerate(entries)
                if isinstance(entry, dict) and isinstance(entry.get("name"), str)
            ]
            check.unique(noun, named)
    return check.found


def _secret_vars(check: _Checker, data: Any, path: DataPath) -> None:
    """Every `*_var` value is an environment variable's name; a pasted secret is reported, never echoed."""
    if isinstance(data, dict):
        for key, value in data.items():
            if (
                isinstance(key, str)
                and key.endswith("_var")
                and isinstance(value, str)
                and not is_env_var_name(value)
            ):
                check.report(
                    f"{key!r} must name an environment variable (letters, digits and _), "
                    "not hold the secret itself; export the secret and name its variable here",
                    (*path, key),
                )
            else:
                _secret_vars(check, value, (*path, key))
    elif isinstance(data, list):
        for i, item in enumerate(data):
            _secret_vars(check, item, (*path, i))


def _url_credentials(check: _Checker, config: ProjectConfig) -> None:
    """An `api_url` with a password or a key in it: it works, but the secret sits in a file (warned)."""
    for i, model in enumerate(config.models):
        url = getattr(model, "api_url", None)
        if isinstance(url, str) and url_secrets(url):
            check.report(
                f"api_url {redact_url(url)!r} holds a credential; oxy keeps it out of messages, but it is in "
                "this file: put the key in an environment variable and name it with key_var (or headers)",
                ("models", i, "api_url"),
                warn=True,
            )


def check_config(
    config: ProjectConfig,
    doc: YamlDocument,
    root: Path,
    *,
    database_types: Collection[str] | None = None,
    files: bool = False,
) -> Findings:
    """Unique database and model names; defaults, A2A and MCP entries that point somewhere real;
    with `database_types` (those oxy can open, from the layer that opens them), no other type; with
    `files` (`oxy validate`), database folders and files that exist. Loading a project checks neither:
    a run fails only when it uses such a database."""
    check = _Checker(root, config, doc)
    check.found = check_config_names(doc)
    _secret_vars(check, doc.data, ())
    _url_credentials(check, config)
    _check_database_paths(check, config, files=files)
    if database_types is not None:
        for i, database in enumerate(config.databases):
            if database.type not in database_types:
                check.report(
                    f"database {database.name!r}: type {database.type!r} is not supported yet; oxy runs "
                    f"{', '.join(sorted(database_types))} databases (runs that use it will fail)",
                    ("databases", i, "type"),
                    warn=True,  # Oxy projects declare warehouses oxy does not run yet
                )
    if config.defaults is not None:
        if config.defaults.database is not None:
            check.database(config.defaults.database, ("defaults", "database"))
        if config.defaults.agent is not None:
            check.file("defaults.agent", config.defaults.agent, ("defaults", "agent"), warn=True)
    if config.a2a is not None:
        for i, agent in enumerate(config.a2a.agents):
            check.file("a2a agent ref", agent.ref, ("a2a", "agents", i, "ref"), kinds=[FileKind.AGENT])
    if config.mcp is not None:
        for i, pattern in enumerate(config.mcp.tools):
            check.glob("mcp tool", pattern, ("mcp", "tools", i), warn=True)
    if isinstance(config.mcp_servers, str):
        try:
            project_mcp_servers(config.mcp_servers, root)
        except ConfigError as exc:
            check.report(str(exc), ("mcp_servers",))
    return check.found


def _check_database_paths(check: _Checker, config: ProjectConfig, *, files: bool) -> None:
    # lazy: file models load when a file of their kind is checked
    from oxy.config.databases import DuckDBDatabase, SQLiteDatabase

    for i, database in enumerate(config.databases):
        if (
            files
            and isinstance(database, DuckDBDatabase)
            and database.dataset is None
            and database.path is None
        ):
            check.report(
                f"database {database.name!r}: DuckLake (duckdb with 'data_path') is not supported yet; point "
                "'path' at a .duckdb file or 'dataset' at a folder of CSV/Parquet files",
                ("databases", i),
                warn=True,  # like other databases oxy does not run yet: runs that use it fail
            )
        if isinstance(database, DuckDBDatabase | SQLiteDatabase):
            for key in ("dataset", "path"):
                ref = getattr(database, key, None)
                where = ("databases", i, key)
                if not isinstance(ref, str) or _templated(ref):
                    continue
                if not check.inside(f"database {database.name!r}: {key}", ref, where) or not files:
                    continue
                target = check.root / ref
                if key == "dataset" and not target.is_dir():
                    check.report(
                        f"database {database.name!r}: dataset folder {ref!r} does not exist (paths are relative "
                        "to the project root); create it and put the CSV/Parquet files there",
                        where,
                    )
                elif key == "path" and not target.is_file():
                    check.report(
                        f"database {database.name!r}: no database file at {ref!r} (paths are relative to the "
                        "project root); oxy opens it read-only, so it must exist before a run uses it",
                        where,
                        warn=True,  # a pipeline may write it later
                    )


def check_agent(
    agent: AgentConfig, doc: YamlDocument, root: Path, config: KnownNames | None, *, templates: bool = False
) -> Findings:
    """The model, databases, files and globs an agent names; with `templates` (`oxy validate`), the
    names its templates read (a run reports those itself, when it renders them)."""
    # lazy: file models load when a file of their kind is checked
    from oxy.config.agent import DefaultAgentConfig, FileContext

    check = _Checker(root, config, doc)
    check.model(agent.model, ("model",))
    contexts = agent.context or []
    check.unique("context", ((c.name, ("context", i, "name")) for i, c in enumerate(contexts)))
    for i, context in enumerate(contexts):
        if isinstance(context, FileContext):
            for j, pattern in enumerate(context.src):
                check.glob("context src", pattern, ("context", i, "src", j))
        else:
            check.file("semantic model src", context.src, ("context", i, "src"))
    check.evals(agent.tests)
    if templates:
        check.templates(doc.data)
    if isinstance(agent, DefaultAgentConfig):
        _check_tools(check, agent)
        _check_permissions(check, agent)
        _check_prompts(check, agent)
    else:
        from oxy.config.prompts import (
            is_prompt_ref,
        )  # lazy: file models load when a file of their kind is checked

        if agent.memory is not None:
            check.report(
                "memory is for default agents: a routing agent hands each question to a route", ("memory",)
            )
        if is_prompt_ref(agent.system_instructions):
            check.report(
                "a routing agent's system_instructions are inline text; prompt files (*.prompt.md) are for "
                "default agents",
                ("system_instructions",),
            )
        for i, route in enumerate(agent.routes):
            if "::" not in route:  # `integration::topic` routes name an integration, not a file
                check.glob("route", route, ("routes", i), warn=True)
        if agent.route_fallback is not None:
            kinds = [FileKind.AGENT, FileKind.WORKFLOW]
            check.file("route_fallback", agent.route_fallback, ("route_fallback",), kinds=kinds)
    return check.found


def _check_prompts(check: _Checker, agent: DefaultAgentConfig) -> None:
    """Prompt files exist and their front matter holds; variants have unique names, known models, a
    weight to pick by, and values for what their prompt files declare without a default."""
    # lazy: file models load when a file of their kind is checked
    from oxy.config.prompts import PromptFile, is_prompt_ref, load_prompt

    def prompt(text: str, at: DataPath) -> PromptFile | None:
        if not is_prompt_ref(text):
            return None
        try:
            return load_prompt(check.root, text, referrer=check.doc.file)
        except ConfigErrors as exc:  # the prompt file's own front matter: its lines
            check.found.errors.extend(exc.errors)
        except ConfigError as exc:
            check.report(exc.message, at)
        return None

    own = prompt(agent.system_instructions, ("system_instructions",))
    variants = agent.variants or []
    inputs = set(agent.variables or {})  # the agent's own inputs: a run (a workflow task) gives them
    unset = [n for n, v in own.variables.items() if v is None and n not in inputs] if own is not None else []
    if own is not None and unset and not variants:
        check.report(
            f"prompt {own.file!r} declares {', '.join(map(repr, unset))} with no default: give it a "
            "`default:` there, declare it in the agent's `variables:` (a run then gives it), or set it in "
            "a variant's `variables:`",
            ("system_instructions",),
        )
    check.unique("variant", ((v.name, ("variants", i, "name")) for i, v in enumerate(variants)))
    if variants and not any(v.weight > 0 for v in variants):
        check.report("every variant has weight 0: give at least one a weight above 0", ("variants",))
    for i, variant in enumerate(variants):
        at: DataPath = ("variants", i)
        if variant.model is not None:
            check.model(variant.model, (*at, "model"))
        found = own
        if variant.system_instructions is not None:
            found = prompt(variant.system_instructions, (*at, "system_instructions"))
        if found is None:
            continue
        missing = [
            n
            for n, v in found.variables.items()
            if v is None and n not in variant.variables and n not in inputs
        ]
        unknown = [n for n in variant.variables if n not in found.variables]
        if missing:
            check.report(
                f"variant {variant.name!r}: prompt {found.file!r} declares {', '.join(map(repr, missing))} "
                "with no default: set it under this variant's `variables:`",
                at,
            )
        if unknown:
            declared = ", ".join(found.variables) or "none"
            check.report(
                f"variant {variant.name!r}: prompt {found.file!r} declares no variable "
                f"{', '.join(map(repr, unknown))} (declared: {declared})",
                (*at, "variables"),
            )


def _check_permissions(check: _Checker, agent: DefaultAgentConfig) -> None:
    """Warnings for rules that cannot take effect: the agent has no workspace tool, a rule names a tool
    its workspace does not offer, or an allow rule is covered whole by an ask or deny rule."""
    # lazy: file models load when a file of their kind is checked
    from oxy.config.permissions import PATH_TOOLS
    from oxy.config.tools import WorkspaceTool

    for i, tool in enumerate(agent.tools):
        if isinstance(tool, WorkspaceTool):
            folder = (check.root / tool.root).resolve()
            if any((folder / name).exists() for name in ("config.yml", ".oxy", "agents")):
                check.report(
                    f"root {tool.root!r} holds the project itself: an agent that may write there can change "
                    "its own permissions and the run store; point `root` at a folder of its own",
                    ("tools", i, "root") if "root" in tool.model_fields_set else ("tools", i),
                    warn=True,
                )
    permissions = agent.permissions
    if permissions is None:
        return
    offered = {name for tool in agent.tools if isinstance(tool, WorkspaceTool) for name in tool.tools}
    if not offered:
        check.report(
            "permissions apply to workspace tools, and this agent has none", ("permissions",), warn=True
        )
        return
    rules = permissions.rules()
    stricter = [r for r in rules if r.decision != "allow"]
    seen: dict[str, int] = {}
    for rule in rules:
        index = seen[rule.decision] = seen.get(rule.decision, -1) + 1
        at: DataPath = ("permissions", rule.decision, index)
        if rule.tool not in offered:
            message = (
                f"rule {rule.text!r} names {rule.tool!r}, which the agent's workspace tools do not offer"
            )
            check.report(message, at, warn=True)
            continue
        everything = (None, "**") if rule.tool in PATH_TOOLS else (None, "*", "**")
        whole = (r for r in stricter if r.tool == rule.tool and r.pattern in everything)
        cover = next(whole, None) if rule.decision == "allow" else None
        if cover is not None:
            check.report(
                f"allow rule {rule.text!r} never applies: {cover} matches every {rule.tool} call, and ask "
                "and deny beat allow; remove it there (a call no rule matches is asked anyway)",
                at,
                warn=True,
            )


def _check_tools(check: _Checker, agent: DefaultAgentConfig) -> None:
    # lazy: file models load when a file of their kind is checked
    from oxy.config.tools import ExecuteSqlTool, McpTool, PythonTool, RetrievalTool, ValidateSqlTool

    check.unique("tool", ((t.name, ("tools", i)) for i, t in enumerate(agent.tools)))
    for i, tool in enumerate(agent.tools):
        at: DataPath = ("tools", i)
        if isinstance(tool, ExecuteSqlTool | ValidateSqlTool):
            check.database(tool.database, (*at, "database"))
        elif isinstance(tool, RetrievalTool):
            for j, pattern in enumerate(tool.src):
                check.glob("retrieval src", pattern, (*at, "src", j))
        elif isinstance(tool, PythonTool):
            check.python_function(tool.function, (*at, "function"))
        elif isinstance(tool, McpTool):
            _check_mcp_server(check, tool, at)
        for ref in tool.file_refs():
            check.file(ref.key, ref.ref, (*at, ref.key), kinds=[_FILE_KINDS[ref.kind]])


def _check_mcp_server(check: _Checker, tool: McpTool, at: DataPath) -> None:
    """A `type: mcp` entry without `command` or `url` names a server config.yml declares."""
    ref = tool.server_ref
    if ref is None or not hasattr(check.names, "mcp_servers"):  # config.yml did not load: say nothing
        return
    declared: Any = getattr(check.names, "mcp_servers", None)
    names = mcp_server_names(declared, check.root)
    if names is not None and ref not in names:
        where = (*at, "server") if tool.server is not None else (*at, "name")
        known = ", ".join(sorted(names)) or "none"
        check.report(
            f"MCP server {ref!r} is not declared in config.yml's `mcp_servers:` (declared: {known}); declare "
            "it there, or give this tool `command:` (stdio) or `url:` (streamable HTTP)",
            where,
        )


def check_workflow(
    workflow: WorkflowConfig,
    doc: YamlDocument,
    root: Path,
    config: KnownNames | None,
    *,
    templates: bool = False,
) -> Findings:
    """Unique task names per list; the databases, files and agents tasks name; tests' `task_ref`s; with
    `templates` (`oxy validate`), the names its templates read."""
    check = _Checker(root, config, doc)
    names: set[str] = set()
    _check_tasks(check, workflow.tasks, ("tasks",), names)
    check.evals(workflow.tests)
    if templates:
        variables = set(workflow.variables or {})
        check.templates(doc.data, known={*variables, *names, *TEMPLATE_BUILTINS}, variables=variables)
    for i, test in enumerate(workflow.tests):
        if test.task_ref is not None and test.task_ref not in names:
            known = ", ".join(sorted(names)) or "none"
            check.report(
                f"task_ref {test.task_ref!r} names no task of this workflow; tasks: {known}",
                ("tests", i, "task_ref"),
            )
    return check.found


def _check_tasks(check: _Checker, tasks: Sequence[TaskConfig], at: DataPath, names: set[str]) -> None:
    # lazy: file models load when a file of their kind is checked
    from oxy.config.workflow import ExecuteSqlTask

    lists: list[tuple[DataPath, Sequence[TaskConfig]]] = [(at, tasks)]
    for task, here in walk_tasks(tasks, at):
        names.add(task.name)
        lists.extend(((*here, *below), children) for below, children in task.children())
        _check_task_paths(check, task, here)
        if isinstance(task, ExecuteSqlTask):
            check.database(task.database, (*here, "database"))
        for ref in task.file_refs():
            # A SQL file may be written at run time by an earlier task's export or cache: a warning.
            check.file(
                ref.key, ref.ref, (*here, ref.key), kinds=[_FILE_KINDS[ref.kind]], warn=ref.kind == "sql"
            )
    for where, listed in lists:
        check.unique("task", ((task.name, (*where, i, "name")) for i, task in enumerate(listed)))


def _check_task_paths(check: _Checker, task: TaskConfig, here: DataPath) -> None:
    """A static `cache.path` or `export.path` stays inside the project (a templated one is checked when run)."""
    from oxy.config.workflow import TaskExport  # lazy: file models load when a file of their kind is checked

    if task.cache is not None:
        check.inside("cache path", task.cache.path, (*here, "cache", "path"))
    export = getattr(task, "export", None)
    if isinstance(export, TaskExport):
        check.inside("export path", export.path, (*here, "export", "path"))


def check_agent_test(
    test: AgentTestFile, doc: YamlDocument, root: Path, config: KnownNames | None
) -> Findings:
    """The target agent (inferred from the file name when unset) and the judge model."""
    # lazy: file models load when a file of their kind is checked
    from oxy.config.agent_test import default_target

    check = _Checker(root, config, doc)
    target = test.target if test.target is not None else default_target(doc.file)
    check.file("target", target, ("target",), kinds=[FileKind.AGENT], warn=True)
    if test.settings.judge_model is not None:
        check.model(test.settings.judge_model, ("settings", "judge_model"), warn=True)
    return check.found


def check_sql_file(sql: SqlFile, root: Path, config: KnownNames | None, *, file: str) -> Findings:
    """The database named in the front matter exists, and so do those its template names (`file`: the
    SQL file's project-relative name, for messages)."""
    found = Findings()
    if sql.database is not None and sql.source is not None:
        check = _Checker(root, config, sql.source)
        check.database(sql.database, ("oxy", "database"))
        found = check.found
    databases = config.database_names if config is not None else None

    def report(message: str, _: DataPath) -> None:
        found.errors.append(ConfigError(message, file=file))

    check_database_refs(sql.sql, (), databases, report)
    return found


def _templated(ref: str) -> bool:
    return "{{" in ref or "{%" in ref


def _closest(ref: str, root: Path, kinds: Sequence[FileKind]) -> str:
    """A project file that `ref` probably meant: same name elsewhere, or a close path of the same kind."""
    suffix = _suffix(ref)
    candidates = [
        p.relative_to(root).as_posix()
        for p in walk_project(root)
        if p.name.endswith(suffix) and (not kinds or classify(p.name) in kinds)
    ]
    name = ref.rsplit("/", 1)[-1]
    same_name = [c for c in candidates if c.rsplit("/", 1)[-1] == name]
    if same_name:
        return f" — did you mean {same_name[0]!r}?"
    stems = {c.rsplit("/", 1)[-1].removesuffix(suffix): c for c in candidates}
    close = difflib.get_close_matches(name.removesuffix(suffix), list(stems), n=1, cutoff=0.75)
    return f" — did you mean {stems[close[0]]!r}?" if close else ""


def _suffix(ref: str) -> str:
    """`.agent.yml` for `agents/sql.agent.yml`, `.sql` for `q.sql`: everything from the name's first dot."""
    name = ref.rsplit("/", 1)[-1]
    return name[name.index(".") :] if "." in name else ""
