"""`TableOutput`: a SQL result as templates see it.

`{{ t }}` renders a markdown table, `{{ t.col }}` is a column's values (keeping their types),
`{{ t.col[0] }}` its first value, `{{ t.col|length }}` the row count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, kw_only=True, slots=True)
class TableOutput:
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    truncated: bool = False
    dropped: str | None = None
    """What the limits cut, in words (`rows past 10,000; 3 cells cut to 2,000 characters`)."""

    def column(self, name: str) -> list[Any]:
        index = self.columns.index(name)
        return [row[index] for row in self.rows]

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def __getattr__(self, name: str) -> list[Any]:
        # Called only for names that are not real attributes: a column of the table.
        try:
            columns = object.__getattribute__(self, "columns")
        except AttributeError:
            raise AttributeError(name) from None
        if name in columns:
            return self.column(name)
        raise AttributeError(f"table has no column {name!r}; columns: {', '.join(columns)}")

    def __len__(self) -> int:
        return len(self.rows)

    def to_markdown(self) -> str:
        header = "| " + " | ".join(self.columns) + " |"
        rule = "| " + " | ".join("---" for _ in self.columns) + " |"
        body = ["| " + " | ".join(_cell(v) for v in row) + " |" for row in self.rows]
        return "\n".join([header, rule, *body])

    def __str__(self) -> str:
        return self.to_markdown()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return str(value).replace("|", "\\|").replace("\n", " ")
