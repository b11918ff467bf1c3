"""Run suites: each case `runs` times through the real engine, at most `concurrency` runs at once."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import anyio

from oxy.application import Runtime, run_file
from oxy.config.evals import JudgeCheck, TestCase
from oxy.errors import ConfigError, OxyError
from oxy.evals.checks import Failure, deterministic_failures, label
from oxy.evals.judge import judge
from oxy.evals.suite import Suite
from oxy.evals.trace import RunTrace, TraceSink
from oxy.execution.agent_io import AgentAnswer
from oxy.models.client import ModelClient

__all__ = ["CaseResult", "RunOutcome", "SuiteResult", "case_name", "run_suite"]


@dataclass(frozen=True)
class RunOutcome:
    trace: RunTrace
    failures: tuple[Failure, ...]

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
    if case.name:
        return case.name
    prompt = " ".join(case.prompt.split())
    return prompt if len(prompt) <= 60 else prompt[:59] + "…"


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
) -> SuiteResult:
    """Run the cases of `suites` (only those with one of `tags` / named in `names`, when given)."""
    jobs: list[tuple[Suite, TestCase, CaseResult, ModelClient | None]] = []
    results: list[CaseResult] = []
    for suite in suites:
        chosen = [case for case in suite.cases if _chosen(case, tags, names)]
        judge_model = _judge_model(runtime, suite, chosen)
        for case in chosen:
            threshold = case.threshold if case.threshold is not None else min_accuracy
            result = CaseResult(
                suite.file, case_name(case), tuple(case.tags), threshold, case.threshold is not None
            )
            results.append(result)
            jobs.extend((suite, case, result, judge_model) for _ in range(runs or suite.runs))
    limit = anyio.CapacityLimiter(concurrency or max((s.concurrency for s in suites), default=1))

    async def one(suite: Suite, case: TestCase, result: CaseResult, judge_model: ModelClient | None) -> None:
        async with limit:
            try:
                outcome = await _run_once(runtime, suite, case, judge_model)
            except OxyError as exc:  # the agent could not be built, ...: this run failed, the suite goes on
                trace = RunTrace(error=str(exc))
                outcome = RunOutcome(trace, (Failure("the run finished", str(exc)),))
        result.runs.append(outcome)
        if on_run is not None:
            on_run()

    async with anyio.create_task_group() as group:
        for job in jobs:
            group.start_soon(one, *job)
    return SuiteResult(results)


def total_runs(
    suites: Sequence[Suite], *, runs: int | None, tags: Sequence[str], names: Sequence[str]
) -> int:
    return sum(runs or s.runs for s in suites for c in s.cases if _chosen(c, tags, names))


def _chosen(case: TestCase, tags: Sequence[str], names: Sequence[str]) -> bool:
    if tags and not set(tags) & set(case.tags):
        return False
    return not names or case_name(case) in names or case.prompt in names


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


async def _run_once(
    runtime: Runtime, suite: Suite, case: TestCase, judge_model: ModelClient | None
) -> RunOutcome:
    sink = TraceSink()
    started = time.perf_counter()
    result = await run_file(suite.target, runtime=runtime, prompt=case.prompt, sink=sink)
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
