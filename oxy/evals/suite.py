"""Which tests to run: `*.agent.test.yml` files, and the inline `tests:` of agents and workflows
(Oxy's `test_case`, `consistency` and `custom` evaluations)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from oxy.application.runner import relative_name
from oxy.config import Project
from oxy.config._kinds import FileKind, classify, walk_project
from oxy.config._parse import parse_agent, parse_agent_test, parse_eval_dataset, parse_workflow
from oxy.config._paths import confine
from oxy.config._yaml import load_yaml
from oxy.config.agent_test import default_target
from oxy.config.evals import (
    ConsistencyEval,
    CustomEval,
    EvalConfig,
    EvalMetric,
    SimilarityMetric,
    TestCase,
    TestCaseEval,
)
from oxy.errors import ConfigError
from oxy.evals._text import short
from oxy.evals.metrics import check_prompt
from oxy.execution.templates import TemplateOrigin

__all__ = ["MetricEval", "Question", "Suite", "load_suites"]


@dataclass(frozen=True)
class Question:
    """What a `consistency` or `custom` evaluation asks, and (custom) the answer it expects."""

    name: str
    prompt: str | None
    """The agent's question, or the value of the workflow's variable; None: a workflow run as it is."""
    description: str
    """What the judge is told the task was."""
    reference: str | None = None
    contexts: tuple[str, ...] = ()
    """What the run should have retrieved (for `context_recall`)."""


@dataclass(frozen=True)
class MetricEval:
    """Oxy's `consistency` (do `n` answers to one question agree?) or `custom` (do the answers match a
    dataset's?), scored by `metrics`."""

    kind: Literal["consistency", "custom"]
    metrics: tuple[EvalMetric, ...]
    questions: tuple[Question, ...]
    task_ref: str | None = None
    """In a workflow: the task whose output is scored (default: the workflow's output)."""
    variable: str | None = None
    """In a workflow: the variable a `custom` question is passed in."""


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
    evaluation: MetricEval | None = None
    """Set for `consistency` and `custom` evaluations (`cases` is empty then)."""


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
        elif kind in (FileKind.AGENT, FileKind.WORKFLOW):
            doc = load_yaml(path, file=rel)
            is_agent = kind is FileKind.AGENT
            config = parse_agent(doc) if is_agent else parse_workflow(doc)
            for i, entry in enumerate(config.tests):
                suites.append(_inline_suite(root, rel, path, is_agent, i, entry))
        elif files:
            raise ConfigError(
                "oxy test takes *.agent.test.yml files, or agent and workflow files with `tests:`", file=rel
            )
    return suites


def _inline_suite(root: Path, rel: str, path: Path, is_agent: bool, i: int, entry: EvalConfig) -> Suite:
    if isinstance(entry, TestCaseEval):
        if not is_agent:
            raise ConfigError(
                f"tests[{i}]: a test_case evaluation asks an agent questions; in a workflow use "
                "`type: consistency` or `type: custom`",
                file=rel,
            )
        return Suite(rel, path, tuple(entry.cases), entry.runs, entry.concurrency, entry.judge_model)
    metrics = tuple(entry.metrics) if entry.metrics else (SimilarityMetric(type="similarity"),)
    for metric in metrics:
        check_prompt(metric, TemplateOrigin(rel, key=f"tests[{i}].metrics"))
    if isinstance(entry, ConsistencyEval):
        description = entry.task_description or (
            f"the output of task {entry.task_ref!r}" if entry.task_ref else f"the output of {rel}"
        )
        name = entry.name or f"consistency: {' '.join(description.split())}"
        prompt = entry.task_description if is_agent else None
        if is_agent and prompt is None:
            raise ConfigError(
                f"tests[{i}]: a consistency evaluation of an agent needs `task_description`: the question "
                "asked each time",
                file=rel,
            )
        question = Question(name, prompt, description)
        evaluation = MetricEval("consistency", metrics, (question,), entry.task_ref)
        return Suite(rel, path, (), entry.n, entry.concurrency, None, evaluation)
    return Suite(rel, path, (), 1, entry.concurrency, None, _custom(root, rel, i, entry, is_agent, metrics))


def _custom(
    root: Path, rel: str, i: int, entry: CustomEval, is_agent: bool, metrics: tuple[EvalMetric, ...]
) -> MetricEval:
    if not is_agent and entry.workflow_variable_name is None:
        raise ConfigError(
            f"tests[{i}]: a custom evaluation of a workflow needs `workflow_variable_name`: the variable "
            "each dataset query is passed in",
            file=rel,
        )
    dataset = confine(root, entry.dataset, what=f"tests[{i}]: dataset", file=rel)
    dataset_rel = relative_name(dataset, root)
    if not dataset.is_file():
        raise ConfigError(
            f"tests[{i}]: dataset {entry.dataset!r} not found (paths are relative to the project root)",
            file=rel,
        )
    records = parse_eval_dataset(load_yaml(dataset, file=dataset_rel))
    questions = tuple(
        Question(
            name=short(record.query),
            prompt=record.query,
            description=record.query,
            reference=record.response,
            contexts=tuple(record.relevant_contexts),
        )
        for record in records
    )
    return MetricEval("custom", metrics, questions, entry.task_ref, entry.workflow_variable_name)
