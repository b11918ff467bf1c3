"""Which test cases to run: `*.agent.test.yml` files, and agents' inline `tests: [{type: test_case}]`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from oxy.application.runner import relative_name
from oxy.config import Project
from oxy.config._kinds import FileKind, classify, walk_project
from oxy.config._parse import parse_agent, parse_agent_test
from oxy.config._yaml import load_yaml
from oxy.config.agent_test import default_target
from oxy.config.evals import TestCase, TestCaseEval
from oxy.errors import ConfigError

__all__ = ["Suite", "load_suites"]


@dataclass(frozen=True)
class Suite:
    file: str
    """Where the cases are written, relative to the project root."""
    target: Path
    """The agent file they run."""
    cases: tuple[TestCase, ...]
    runs: int
    concurrency: int
    judge_model: str | None


def load_suites(project: Project, files: Sequence[Path] = ()) -> list[Suite]:
    """The suites in `files` (test files or agent files), or in every file of the project."""
    root = project.root.resolve()
    paths = [p.resolve() for p in files] if files else list(walk_project(root))
    suites: list[Suite] = []
    for path in paths:
        rel = relative_name(path, root)
        kind = classify(rel)
        if kind is FileKind.AGENT_TEST:
            test = parse_agent_test(load_yaml(path, file=rel))
            target = root / (test.target or default_target(rel))
            if not target.is_file():
                raise ConfigError(f"target {relative_name(target, root)!r} not found", file=rel)
            s = test.settings
            suites.append(Suite(rel, target, tuple(test.cases), s.runs, s.concurrency, s.judge_model))
        elif kind is FileKind.AGENT:
            agent = parse_agent(load_yaml(path, file=rel))
            for entry in agent.tests:
                if isinstance(entry, TestCaseEval):
                    cases = tuple(entry.cases)
                    suites.append(Suite(rel, path, cases, entry.runs, entry.concurrency, entry.judge_model))
        elif files:
            raise ConfigError("oxy test takes *.agent.test.yml files, or agent files with `tests:`", file=rel)
    return suites
