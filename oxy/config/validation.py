"""`validate(root)`: check every file of a project (or some of them) and collect every problem."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from oxy.config._issues import ConfigErrors, sort_errors
from oxy.config._kinds import FileKind, classify, skip_reason, walk_project
from oxy.config._parse import parse_agent, parse_agent_test, parse_config, parse_workflow
from oxy.config._yaml import load_yaml
from oxy.config.loader import CONFIG_FILE
from oxy.config.refs import (
    Findings,
    KnownNames,
    RawNames,
    check_agent,
    check_agent_test,
    check_config,
    check_config_names,
    check_sql_file,
    check_workflow,
)
from oxy.config.sql_file import parse_sql_file
from oxy.errors import ConfigError

__all__ = ["SkippedFile", "ValidationReport", "validate"]


@dataclass(frozen=True)
class SkippedFile:
    path: str
    reason: str


@dataclass(frozen=True)
class ValidationReport:
    """What `validate` found. Errors and warnings are sorted by file and line."""

    errors: tuple[ConfigError, ...]
    checked: tuple[str, ...]
    skipped: tuple[SkippedFile, ...]
    warnings: tuple[ConfigError, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors

    def lines(self) -> list[str]:
        """One line per problem and per skipped file, in file order."""
        out = [str(e) for e in self.errors]
        out += [
            f"{w.location()}: warning: {w.message}" if w.location() else f"warning: {w.message}"
            for w in self.warnings
        ]
        out += [f"{s.path}: skipped: {s.reason}" for s in self.skipped]
        return out

    def summary(self) -> str:
        """`12 files checked, 0 errors, 3 skipped` (and warnings, when there are some)."""
        parts = [_count(len(self.checked), "file") + " checked", _count(len(self.errors), "error")]
        if self.warnings:
            parts.append(_count(len(self.warnings), "warning"))
        parts.append(f"{len(self.skipped)} skipped")
        return ", ".join(parts)


def validate(
    root: Path, paths: Sequence[Path] | None = None, *, database_types: Collection[str] | None = None
) -> ValidationReport:
    """Check the project at `root`: every file, or only `paths` (files or folders, absolute or root-relative).

    config.yml is always read, since the other files' references are checked against it.
    `database_types` are the types oxy can open (the databases layer knows); any other is an error.
    """
    root = root.resolve()
    run = _Run(root, database_types)
    config = run.config()
    files = list(walk_project(root)) if paths is None else _expand(root, paths, run)
    for file in files:
        rel = _relative(root, file)
        if rel == CONFIG_FILE:  # read (and counted) first, above
            continue
        kind = classify(rel)
        if kind is not None:
            run.check(file, rel, kind, config)
        elif (reason := skip_reason(rel)) is not None:
            run.skipped.append(SkippedFile(rel, reason))
    return ValidationReport(
        errors=tuple(sort_errors(run.errors)),
        checked=tuple(run.checked),
        skipped=tuple(run.skipped),
        warnings=tuple(sort_errors(run.warnings)),
    )


class _Run:
    def __init__(self, root: Path, database_types: Collection[str] | None) -> None:
        self.root = root
        self.database_types = database_types
        self.errors: list[ConfigError] = []
        self.warnings: list[ConfigError] = []
        self.checked: list[str] = []
        self.skipped: list[SkippedFile] = []

    def collect(self, error: ConfigError) -> None:
        self.errors.extend(error.errors if isinstance(error, ConfigErrors) else [error])

    def add(self, found: Findings) -> None:
        self.errors.extend(found.errors)
        self.warnings.extend(found.warnings)

    def config(self) -> KnownNames | None:
        """config.yml's names; read from its raw data when it is broken (its errors are collected)."""
        if not (self.root / CONFIG_FILE).is_file():
            self.errors.append(ConfigError(f"no {CONFIG_FILE} in {self.root}; run `oxy make` to create one"))
            return None
        self.checked.append(CONFIG_FILE)
        try:
            doc = load_yaml(self.root / CONFIG_FILE, file=CONFIG_FILE)
        except ConfigError as exc:
            self.collect(exc)
            return None
        try:
            config = parse_config(doc)
        except ConfigError as exc:
            self.collect(exc)
            self.add(check_config_names(doc))
            return RawNames.from_data(doc.data)
        self.add(check_config(config, doc, self.root, database_types=self.database_types, files=True))
        return config

    def check(self, file: Path, rel: str, kind: FileKind, config: KnownNames | None) -> None:
        self.checked.append(rel)
        try:
            if kind is FileKind.SQL:
                self.add(check_sql_file(parse_sql_file(file, file=rel), self.root, config, file=rel))
                return
            doc = load_yaml(file, file=rel)
            if kind is FileKind.AGENT:
                self.add(check_agent(parse_agent(doc), doc, self.root, config, templates=True))
            elif kind is FileKind.WORKFLOW:
                self.add(check_workflow(parse_workflow(doc), doc, self.root, config, templates=True))
            elif kind is FileKind.AGENT_TEST:
                self.add(check_agent_test(parse_agent_test(doc), doc, self.root, config))
        except ConfigError as exc:
            self.collect(exc)


def _expand(root: Path, paths: Sequence[Path], run: _Run) -> list[Path]:
    files: list[Path] = []
    for given in paths:
        path = (root / given).resolve()
        if path.is_dir():
            files.extend(walk_project(path))
        elif path.is_file():
            files.append(path)
        else:
            run.errors.append(ConfigError(f"no such file or folder: {given}"))
    return list(dict.fromkeys(files))


def _relative(root: Path, file: Path) -> str:
    try:
        return file.relative_to(root).as_posix()
    except ValueError:
        return str(file)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
