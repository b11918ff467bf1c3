"""`oxy test`: run an agent's test cases, check each answer, and report pass rates.

A test file (`*.agent.test.yml`, Oxy's format) names an agent and its cases. Each case runs `runs`
times through the real engine (`run_file`); each run is checked by the case's `tool` (Oxy's), its
`assert:` list (deterministic: text, regex, tool calls, SQL rows, JSON Schema, limits) and, with
`expected` or a `judge:` rubric, by the test's judge model. A case passes when its pass rate reaches
its threshold; the suite's score is the mean pass rate.
"""

from oxy.evals.runner import CaseResult, RunOutcome, SuiteResult, run_suite
from oxy.evals.suite import Suite, load_suites

__all__ = ["CaseResult", "RunOutcome", "Suite", "SuiteResult", "load_suites", "run_suite"]
