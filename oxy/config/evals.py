"""`tests:` entries of agent and workflow files: Oxy's built-in evaluations (consistency, custom, test_case)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from oxy.config._base import StrictModel

__all__ = [
    "ConsistencyEval",
    "ContextRecallMetric",
    "CorrectnessMetric",
    "CustomEval",
    "EvalConfig",
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


class TestCase(StrictModel):
    """One prompt and the answer a judge should find in the agent's reply."""

    __test__ = False  # not a pytest class

    prompt: str
    expected: str
    name: str | None = None
    tags: list[str] = Field(default_factory=list[str])
    tool: str | None = Field(default=None, description="A tool the agent must have called.")


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
