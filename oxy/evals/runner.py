"""Run suites: each case `runs` times through the real engine, at most `concurrency` runs at once.

A `custom` evaluation's question runs like a case and is scored by its metrics against the dataset's
answer; a `consistency` evaluation runs its question `n` times and scores each answer against the
next (Oxy's circular pairs), so its pass rate is the share of pairs that agree."""

from __future__ import annotations

import functools
import json
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio

from oxy.application import Runtime, run_file
from oxy.application.runner import relative_name
from oxy.config.agent import DefaultAgentConfig
from oxy.config.evals import ContextRecallMetric, JudgeCheck, TestCase
from oxy.errors import ConfigError, OxyError
from oxy.evals._text import short
from oxy.evals.checks import Failure, deterministic_failures, label
from oxy.evals.judge import judge
from oxy.evals.metrics import Score, Submission, score
from oxy.evals.suite import MetricEval, Question, Suite
from oxy.evals.trace import RunTrace, TraceSink
from oxy.execution.agent_io import AgentAnswer
from oxy.execution.run import RunResult
from oxy.execution.templates import TemplateOrigin
from oxy.models.client import ModelClient

__all__ = [
    "CaseResult",
    "RunOutcome",
    "SuiteResult",
    "case_name",
    "check_variant",
    "run_suite",
    "total_runs",
    "variant_names",
    "variants_of",
]

Ask = Callable[..., Awaitable[RunResult[Any]]]
"""`run_file` with the runtime (and the variant under test) bound."""


@dataclass(frozen=True)
class RunOutcome:
    trace: RunTrace
    failures: tuple[Failure, ...]
    scores: tuple[Score, ...] = ()
    """The metrics' scores (consistency and custom evaluations)."""

    @property
    def passed(self) -> bool:
        return not self.failures


@dataclass
class CaseResult:
    file: str
    name: str
    tags: tuple[str, ...]
    threshold: float
    explicit: bool = False
    """The case set its own `threshold`, which it must reach whatever the mode."""
    runs: list[RunOutcome] = field(default_factory=list[RunOutcome])

    @property
    def pass_rate(self) -> float:
        return sum(r.passed for r in self.runs) / len(self.runs) if self.runs else 0.0

    @property
    def passed(self) -> bool:
        return self.pass_rate >= self.threshold - 1e-9

    @property
    def consistent(self) -> bool:
        """Every run got the same verdict."""
        return len({r.passed for r in self.runs}) <= 1

    @property
    def seconds(self) -> float:
        return statistics.mean(r.trace.duration_s for r in self.runs) if self.runs else 0.0

    @property
    def tokens(self) -> int:
        return sum(r.trace.input_tokens + r.trace.output_tokens for r in self.runs)

    @property
    def metrics(self) -> dict[str, float]:
        """Each metric's mean score over the runs that measured it (Oxy's accuracy and recall)."""
        by_metric: dict[str, list[float]] = {}
        for run in self.runs:
            for s in run.scores:
                by_metric.setdefault(s.metric, []).append(s.value)
        return {name: statistics.mean(values) for name, values in by_metric.items()}


@dataclass
class SuiteResult:
    cases: list[CaseResult]

    @property
    def score(self) -> float:
        return statistics.mean(c.pass_rate for c in self.cases) if self.cases else 0.0

    def passed(self, *, min_accuracy: float, mode: str) -> bool:
        """`average`: the mean pass rate reaches `min_accuracy`; `all`: every case reaches its threshold.
        A case with its own `threshold` must reach it either way."""
        own = all(c.passed for c in self.cases if c.explicit)
        if mode == "all":
            return all(c.passed for c in self.cases)
        return own and self.score >= min_accuracy - 1e-9


def case_name(case: TestCase) -> str:
    return case.name or short(case.prompt)


async def run_suite(
    runtime: Runtime,
    suites: Sequence[Suite],
    *,
    runs: int | None = None,
    concurrency: int | None = None,
    min_accuracy: float = 1.0,
    tags: Sequence[str] = (),
    names: Sequence[str] = (),
    on_run: Callable[[], None] | None = None,
    variant: str | None = None,
) -> SuiteResult:
    """Run the cases of `suites` (only those with one of `tags` / named in `names`, when given);
    agents with `variants` run `variant`."""

    def ask_for(suite: Suite) -> Ask:
        """`run_file` for `suite`'s target: `variant` where its agent has it, else as it picks."""
        has = variant is not None and variant in variants_of(runtime, suite)
        return functools.partial(run_file, runtime=runtime, variant=variant if has else None)

    jobs: list[Callable[[], Any]] = []
    results: list[CaseResult] = []
    limit = anyio.CapacityLimiter(concurrency or max((s.concurrency for s in suites), default=1))

    def ran() -> None:
        if on_run is not None:
            on_run()

    async def case_run(
        ask: Ask, suite: Suite, case: TestCase, result: CaseResult, judge_model: ModelClient | None
    ) -> None:
        async with limit:
            try:
                outcome = await _run_once(ask, suite, case, judge_model)
            except OxyError as exc:  # the agent could not be built, ...: this run failed, the suite goes on
                outcome = _failed(exc)
        result.runs.append(outcome)
        ran()

    for suite in suites:
        ask = ask_for(suite)
        if suite.evaluation is not None:
            evaluation = suite.evaluation
            questions = [q for q in evaluation.questions if _chosen_question(q, tags, names)]
            judges = _metric_judges(runtime, suite, evaluation) if questions else {}
            times = runs or suite.runs
            for question in questions:
                result = CaseResult(suite.file, question.name, (), min_accuracy)
                results.append(result)
                job = _consistency if evaluation.kind == "consistency" else _custom_run
                args = (ask, suite, evaluation, question, judges, result, limit, ran)
                if evaluation.kind == "consistency":
                    jobs.append(_bind(job, *args, times))
                else:
                    jobs.extend(_bind(job, *args) for _ in range(times))
            continue
        chosen = [case for case in suite.cases if _chosen(case, tags, names)]
        judge_model = _judge_model(runtime, suite, chosen)
        for case in chosen:
            threshold = case.threshold if case.threshold is not None else min_accuracy
            result = CaseResult(
                suite.file, case_name(case), tuple(case.tags), threshold, case.threshold is not None
            )
            results.append(result)
            jobs.extend(
                _bind(case_run, ask, suite, case, result, judge_model) for _ in range(runs or suite.runs)
            )

    async with anyio.create_task_group() as group:
        for job in jobs:
            group.start_soon(job)
    return SuiteResult(results)


def _bind(fn: Callable[..., Any], *args: Any) -> Callable[[], Any]:
    return lambda: fn(*args)


def _failed(exc: OxyError) -> RunOutcome:
    return RunOutcome(RunTrace(error=str(exc)), (Failure("the run finished", str(exc)),))


def total_runs(
    suites: Sequence[Suite], *, runs: int | None, tags: Sequence[str], names: Sequence[str]
) -> int:
    """How many times a target will run (the progress bar's length)."""
    total = 0
    for s in suites:
        chosen = (
            [q for q in s.evaluation.questions if _chosen_question(q, tags, names)]
            if s.evaluation is not None
            else [c for c in s.cases if _chosen(c, tags, names)]
        )
        total += len(chosen) * (runs or s.runs)
    return total


def _chosen(case: TestCase, tags: Sequence[str], names: Sequence[str]) -> bool:
    if tags and not set(tags) & set(case.tags):
        return False
    return not names or case_name(case) in names or case.prompt in names


def variants_of(runtime: Runtime, suite: Suite) -> tuple[str, ...]:
    """The names of the variants of the agent `suite` runs (none for a workflow)."""
    if not suite.target.name.endswith(".agent.yml"):
        return ()
    config = runtime.project.agent(relative_name(suite.target, runtime.root))
    return tuple(v.name for v in config.variants or ()) if isinstance(config, DefaultAgentConfig) else ()


def variant_names(runtime: Runtime, suites: Sequence[Suite]) -> tuple[str, ...]:
    """The variants `--compare variants` runs: those of the agents under test, which must agree."""
    found: dict[tuple[str, ...], str] = {}
    for suite in suites:
        names = variants_of(runtime, suite)
        if names:
            found.setdefault(names, relative_name(suite.target, runtime.root))
    if not found:
        raise ConfigError("--compare variants: no agent under test has `variants:`")
    if len(found) > 1:
        which = "; ".join(f"{file}: {', '.join(names)}" for names, file in found.items())
        raise ConfigError(
            f"--compare variants: the agents under test have different variants ({which}); test one agent at a time"
        )
    return next(iter(found))


def check_variant(runtime: Runtime, suites: Sequence[Suite], name: str) -> None:
    """`--variant NAME`: a `ConfigError` unless an agent under test has that variant."""
    known = sorted({v for suite in suites for v in variants_of(runtime, suite)})
    if name not in known:
        listed = ", ".join(known) if known else "none: no agent under test has `variants:`"
        raise ConfigError(f"--variant {name!r}: no agent under test has it (variants: {listed})")


def _chosen_question(question: Question, tags: Sequence[str], names: Sequence[str]) -> bool:
    """Evaluation questions have no tags: `--tag` leaves them out."""
    return not tags and (not names or question.name in names or question.prompt in names)


def _judge_model(runtime: Runtime, suite: Suite, cases: Sequence[TestCase]) -> ModelClient | None:
    """The judge for `cases` (those chosen to run); a config error when one needs it and there is none."""
    needs = [c for c in cases if c.expected is not None or any(isinstance(k, JudgeCheck) for k in c.checks)]
    if not needs:
        return None
    if suite.judge_model is None:
        raise ConfigError(
            f"case {case_name(needs[0])!r} has `expected` or a `judge:` check, which a judge model grades: "
            "set settings.judge_model to a model of config.yml (or use `assert:` checks, which need none)",
            file=suite.file,
        )
    return runtime.model_client(suite.judge_model, file=suite.file)


async def _run_once(ask: Ask, suite: Suite, case: TestCase, judge_model: ModelClient | None) -> RunOutcome:
    sink = TraceSink()
    started = time.perf_counter()
    result = await ask(suite.target, prompt=case.prompt, sink=sink)
    trace = sink.trace
    trace.duration_s = time.perf_counter() - started
    output = result.output
    trace.answer = output.text if isinstance(output, AgentAnswer) else "" if output is None else str(output)
    if result.status != "ok":
        trace.error = str(result.error) if result.error is not None else result.status
    failures = deterministic_failures(case, trace)
    if judge_model is not None and trace.error is None:
        verdicts: list[tuple[str, str | None, str | None]] = []
        if case.expected is not None:
            verdicts.append((f"expected {case.expected!r} (judged)", case.expected, None))
        verdicts += [(label(c), None, c.judge) for c in case.checks if isinstance(c, JudgeCheck)]
        for what, expected, rubric in verdicts:
            try:
                ok, why = await judge(
                    judge_model, question=case.prompt, answer=trace.answer, expected=expected, rubric=rubric
                )
            except OxyError as exc:  # the judge's model failed: this run is not judged a pass
                ok, why = False, f"the judge model failed: {exc}"
            if not ok:
                failures.append(Failure(what, why))
    return RunOutcome(trace, tuple(failures))


def _metric_judges(runtime: Runtime, suite: Suite, evaluation: MetricEval) -> dict[int, ModelClient]:
    """The judge model of each judged metric, by its index: its `model_ref`, else (Oxy's default) the
    first model of config.yml."""
    judges: dict[int, ModelClient] = {}
    for i, metric in enumerate(evaluation.metrics):
        if isinstance(metric, ContextRecallMetric):
            continue
        name = metric.model_ref
        if name is None:
            models = runtime.project.config.model_names
            if not models:
                raise ConfigError(
                    f"the {metric.type} metric needs a judge model: set its `model_ref`, or add a model "
                    "to config.yml",
                    file=suite.file,
                )
            name = models[0]
        judges[i] = runtime.model_client(name, file=suite.file)
    return judges


async def _target_run(ask: Ask, suite: Suite, evaluation: MetricEval, question: Question) -> RunTrace:
    """Run the suite's target on `question`; the trace's answer is the scored output (a workflow's
    `task_ref` task's, when set). A run that could not start (the agent does not build, ...) is a
    trace with its `error`, like one that failed: never an exception."""
    try:
        return await _target_trace(ask, suite, evaluation, question)
    except OxyError as exc:
        return RunTrace(error=str(exc))


async def _target_trace(ask: Ask, suite: Suite, evaluation: MetricEval, question: Question) -> RunTrace:
    sink = TraceSink()
    started = time.perf_counter()
    if suite.target.name.endswith(".agent.yml"):
        result = await ask(suite.target, prompt=question.prompt, sink=sink)
    else:
        variables = (
            {evaluation.variable: question.prompt}
            if evaluation.variable and question.prompt is not None
            else None
        )
        result = await ask(suite.target, variables=variables, sink=sink)
    trace = sink.trace
    trace.duration_s = time.perf_counter() - started
    if result.status != "ok":
        trace.error = str(result.error) if result.error is not None else result.status
        return trace
    output: Any = result.output
    if evaluation.task_ref is not None:
        step = trace.steps.get(evaluation.task_ref)
        if step is None:
            trace.error = f"task {evaluation.task_ref!r} (task_ref) did not run in {suite.file}"
            return trace
        output = step[1]
    trace.answer = _text(output)
    return trace


def _text(output: Any) -> str:
    if isinstance(output, AgentAnswer):
        return output.text
    if output is None or isinstance(output, str):
        return output or ""
    try:
        return json.dumps(output, default=str, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(output)


def _contexts(trace: RunTrace, task_ref: str | None) -> tuple[str, ...]:
    """What the run retrieved: the SQL it executed (within `task_ref`, when set)."""
    return tuple(sql for source, sql in trace.sql if task_ref is None or task_ref in source)


async def _scored(
    suite: Suite,
    evaluation: MetricEval,
    judges: dict[int, ModelClient],
    question: Question,
    trace: RunTrace,
    reference: Submission,
) -> RunOutcome:
    """`trace` scored by every metric against `reference`; a metric that fails is a failed check."""
    actual = Submission(trace.answer, _contexts(trace, evaluation.task_ref))
    origin = TemplateOrigin(suite.file)
    scores: list[Score] = []
    failures: list[Failure] = []
    for i, metric in enumerate(evaluation.metrics):
        try:
            result = await score(
                metric,
                judges.get(i),
                question=question.description,
                actual=actual,
                reference=reference,
                origin=origin,
            )
        except OxyError as exc:  # the judge's model failed: not a pass
            failures.append(Failure(metric.type, f"the judge model failed: {exc}"))
            continue
        if result is None:
            continue
        scores.append(result)
        if not result.passed:
            failures.append(Failure(f"{metric.type} {result.value:.2f}", result.detail))
    return RunOutcome(trace, tuple(failures), tuple(scores))


async def _custom_run(
    ask: Ask,
    suite: Suite,
    evaluation: MetricEval,
    question: Question,
    judges: dict[int, ModelClient],
    result: CaseResult,
    limit: anyio.CapacityLimiter,
    ran: Callable[[], None],
) -> None:
    async with limit:
        trace = await _target_run(ask, suite, evaluation, question)
        if trace.error is not None:
            outcome = RunOutcome(trace, (Failure("the run finished", trace.error),))
        else:
            reference = Submission(question.reference or "", question.contexts)
            try:
                outcome = await _scored(suite, evaluation, judges, question, trace, reference)
            except OxyError as exc:
                outcome = _failed(exc)
    result.runs.append(outcome)
    ran()


async def _consistency(
    ask: Ask,
    suite: Suite,
    evaluation: MetricEval,
    question: Question,
    judges: dict[int, ModelClient],
    result: CaseResult,
    limit: anyio.CapacityLimiter,
    ran: Callable[[], None],
    times: int,
) -> None:
    """Run `question` `times` times, then score each answer against the next (the last against the
    first). A run that failed is a failed outcome of its own and joins no pair."""
    traces: list[RunTrace] = []

    async def one() -> None:
        async with limit:
            trace = await _target_run(ask, suite, evaluation, question)
        traces.append(trace)
        ran()

    async with anyio.create_task_group() as group:
        for _ in range(times):
            group.start_soon(one)
    good = [t for t in traces if t.error is None]
    for trace in traces:
        if trace.error is not None:
            result.runs.append(RunOutcome(trace, (Failure("the run finished", trace.error),)))
    if len(good) < 2:  # nothing to compare: a failure that says so, not an empty pass rate
        why = f"{len(good)} of {times} runs answered; a consistency evaluation compares at least 2 answers"
        result.runs.append(RunOutcome(good[0] if good else RunTrace(), (Failure("answers to compare", why),)))
        return
    pairs = [(good[i], good[(i + 1) % len(good)]) for i in range(len(good))]

    async def pair(first: RunTrace, second: RunTrace) -> None:
        async with limit:
            try:
                reference = Submission(second.answer, _contexts(second, evaluation.task_ref))
                outcome = await _scored(suite, evaluation, judges, question, first, reference)
            except OxyError as exc:
                outcome = _failed(exc)
        result.runs.append(outcome)

    async with anyio.create_task_group() as group:
        for first, second in pairs:
            group.start_soon(pair, first, second)
