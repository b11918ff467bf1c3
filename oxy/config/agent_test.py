"""`*.agent.test.yml`: evaluation cases for one agent."""

from __future__ import annotations

from pathlib import PurePosixPath

from pydantic import Field

from oxy.config._base import StrictModel
from oxy.config.evals import TestCase

__all__ = ["AgentTestFile", "TestSettings", "default_target"]


class TestSettings(StrictModel):
    __test__ = False  # not a pytest class

    concurrency: int = Field(default=5, ge=1, description="Cases run at most this many at once.")
    runs: int = Field(
        default=3, ge=1, description="Times each case runs; consistency is the agreement across runs."
    )
    judge_model: str | None = Field(
        default=None, description="The model that judges answers (a name in config.yml)."
    )


class AgentTestFile(StrictModel):
    """A test file: which agent (`target`), how to run (`settings`), and the `cases`."""

    name: str | None = None
    target: str | None = Field(
        default=None,
        description="The agent file, relative to the project root; by default `<name>.agent.yml` beside it.",
    )
    settings: TestSettings = Field(default_factory=TestSettings)
    cases: list[TestCase]


def default_target(test_file: str) -> str:
    """`testing/sales.agent.test.yml` -> `testing/sales.agent.yml` (project-relative, POSIX)."""
    path = PurePosixPath(test_file)
    name = path.name.removesuffix(".agent.test.yml") + ".agent.yml"
    return str(path.with_name(name))
