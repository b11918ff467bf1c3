"""What tasks return, as templates see them.

An `execute_sql` task returns a `TableOutput`, an `agent` or `formatter` task a `str`, a `workflow`
or `conditional` task the dict of its tasks' outputs. The types here cover the rest:

- `LoopOutput`: `{% for i in per_fruit %}{{ i.value }} {{ i.summary }}{% endfor %}`, `per_fruit[0]`,
  `per_fruit|length`; each item is a dict of the iteration's `value` and its tasks' outputs.
- `ConsistencyOutput`: an agent asked N times; `{{ report }}` is the chosen answer, `.value` too,
  `.score` how many of the other answers agreed with it (0 to 1).
- `ChartOutput`: a Vega-Lite spec from a `visualize` task.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ChartOutput", "ConsistencyOutput", "LoopOutput"]


@dataclass(frozen=True, kw_only=True, slots=True)
class LoopOutput:
    """One dict per iteration, in input order: `value` and each inner task's output by name."""

    items: tuple[Mapping[str, Any], ...]

    def __iter__(self) -> Iterator[Mapping[str, Any]]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> Mapping[str, Any]:
        return self.items[index]

    @property
    def values(self) -> list[Any]:
        return [item["value"] for item in self.items]

    def __str__(self) -> str:
        return "\n".join(str(dict(item)) for item in self.items)


@dataclass(frozen=True, kw_only=True, slots=True)
class ConsistencyOutput:
    """The most consistent of several answers to one prompt, and how consistent it was."""

    value: str
    score: float
    answers: tuple[str, ...] = field(default_factory=tuple[str, ...])

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, kw_only=True, slots=True)
class ChartOutput:
    """A chart as a Vega-Lite spec (data inlined)."""

    spec: Mapping[str, Any]
    title: str | None = None

    def __str__(self) -> str:
        return self.title or str(self.spec.get("title", "chart"))
