"""`tests:` entries of agent and workflow files: Oxy's built-in evaluations (consistency, custom, test_case)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from oxy.config._base import StrictModel

__all__ = [
    "ArgMatch",
    "Check",
    "ContainsCheck",
    "ExpectedCall",
    "JsonSchemaCheck",
    "JudgeCheck",
    "MaxDurationCheck",
    "MaxToolCallsCheck",
    "RegexCheck",
    "RowsCheck",
    "ToolCallsCheck",
    "ConsistencyEval",
    "ContextRecallMetric",
    "CorrectnessMetric",
    "CustomEval",
    "EvalConfig",
    "EvalDataset",
    "EvalRecord",
    "EvalMetric",
    "SimilarityMetric",
    "TestCase",
    "TestCaseEval",
]


class ContextRecallMetric(StrictModel):
    type: Literal["context_recall"]
    distance: Literal["Levenshtein"] | dict[str, str] = "Levenshtein"
    threshold: float = 0.5


class SimilarityMetric(StrictModel):
    type: Literal["similarity"]
    model_ref: str | None = Field(default=None, description="Judge model, by its name in config.yml.")
    prompt: str | None = Field(default=None, description="Judge prompt; oxy's built-in one when unset.")
    scores: dict[str, float] = Field(default_factory=lambda: {"A": 1.0, "B": 0.0})


class CorrectnessMetric(StrictModel):
    type: Literal["correctness"]
    model_ref: str | None = Field(default=None, description="Judge model, by its name in config.yml.")
    prompt: str | None = Field(default=None, description="Judge prompt; oxy's built-in one when unset.")


EvalMetric = Annotated[
    ContextRecallMetric | SimilarityMetric | CorrectnessMetric, Field(discriminator="type")
]


class ArgMatch(StrictModel):
    """How a tool call's argument is matched: exactly (`equals`), or containing text (`contains`)."""

    contains: str | None = None
    equals: Any = None


class ExpectedCall(StrictModel):
    name: str
    args: dict[str, ArgMatch | str | int | float | bool | None] = Field(
        default_factory=dict[str, "ArgMatch | str | int | float | bool | None"],
        description="Arguments the call must have: a value (equal) or {contains: text}.",
    )


class ContainsCheck(StrictModel):
    contains: str = Field(description="The answer contains this text (case-insensitive).")


class RegexCheck(StrictModel):
    regex: str = Field(description="The answer matches this regular expression (Python `re.search`).")


class ToolCallsCheck(StrictModel):
    tool_calls: list[ExpectedCall] = Field(description="These tool calls were made.")
    order: Literal["exact", "in_order", "any_order"] = Field(
        default="any_order",
        description="`exact`: these and no others, in this order; `in_order`: in this order, others "
        "between allowed; `any_order`: each was made.",
    )


class RowsCheck(StrictModel):
    rows: list[dict[str, Any]] = Field(
        description="A SQL tool returned these rows (each a subset of a result row, by column)."
    )


class JsonSchemaCheck(StrictModel):
    json_schema: dict[str, Any] = Field(description="The answer is JSON valid against this schema.")


class MaxToolCallsCheck(StrictModel):
    max_tool_calls: int = Field(ge=0, description="At most this many tool calls.")


class MaxDurationCheck(StrictModel):
    max_duration: float = Field(gt=0, description="The run took at most this many seconds.")


class JudgeCheck(StrictModel):
    judge: str = Field(description="A rubric the judge model checks the answer against.")


Check = (
    ContainsCheck
    | RegexCheck
    | ToolCallsCheck
    | RowsCheck
    | JsonSchemaCheck
    | MaxToolCallsCheck
    | MaxDurationCheck
    | JudgeCheck
)
"""One item of a case's `assert:` list, by its key."""


class TestCase(StrictModel):
    """One prompt; the answer a judge should find in the agent's reply (`expected`, Oxy's), a tool
    that must have run (`tool`, Oxy's) and deterministic checks (`assert:`, oxy's additive key)."""

    __test__ = False  # not a pytest class

    prompt: str
    expected: str | None = Field(default=None, description="Judged by the test's judge model.")
    name: str | None = None
    tags: list[str] = Field(default_factory=list[str])
    tool: str | None = Field(default=None, description="A tool the agent must have called.")
    checks: list[Check] = Field(
        default_factory=list[Check], alias="assert", description="Checks that must all hold; no judge needed."
    )
    threshold: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="The pass rate this case needs over its runs (default: the suite's).",
    )


class _Eval(StrictModel):
    name: str | None = Field(default=None, description="A label for reports.")
    concurrency: int = Field(default=10, ge=1)
    metrics: list[EvalMetric] | None = Field(
        default=None, description="How answers are scored; similarity by default."
    )
    task_ref: str | None = Field(
        default=None, description="In a workflow: the task whose output is evaluated."
    )


class ConsistencyEval(_Eval):
    """Ask the same question `n` times and score how much the answers agree."""

    type: Literal["consistency"]
    n: int = Field(default=10, ge=1)
    task_description: str | None = None


class EvalRecord(StrictModel):
    """One question of a `custom` eval's dataset, with the answer and the contexts it should use."""

    query: str = Field(description="What the agent is asked (a workflow gets it as a variable).")
    response: str = Field(description="The expected answer.")
    relevant_contexts: list[str] = Field(
        default_factory=list[str], description="What the run should have retrieved (SQL, documents)."
    )


EvalDataset = list[EvalRecord]
"""A `custom` eval's dataset file: a YAML list of records."""


class CustomEval(_Eval):
    """Score answers against a dataset file of questions and expected answers."""

    type: Literal["custom"]
    dataset: str = Field(description="The dataset file, relative to the project root.")
    is_context_id: bool = False
    workflow_variable_name: str | None = None


class TestCaseEval(_Eval):
    """Inline test cases judged by a model."""

    __test__ = False  # not a pytest class

    type: Literal["test_case"]
    cases: list[TestCase]
    runs: int = Field(ge=1)
    judge_model: str | None = None


EvalConfig = Annotated[ConsistencyEval | CustomEval | TestCaseEval, Field(discriminator="type")]
"""One `tests:` entry, by `type`."""
