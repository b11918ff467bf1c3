"""`TableOutput`: a SQL result as templates see it.

`{{ t }}` renders a markdown table, `{{ t.col }}` is a column's values (keeping their types),
`{{ t.col[0] }}` its first value, `{{ t.col|length }}` the row count.
"""

from __future__ import annotations

from collections.abc import Sequence
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


def bounded_table(
    columns: tuple[str, ...],
    rows: Sequence[Sequence[Any]],
    *,
    truncated: bool,
    row_cap: int,
    max_cell_chars: int,
    max_bytes: int,
) -> TableOutput:
    """The table within the limits: text cells cut to `max_cell_chars`, rows dropped once the cells add up
    to about `max_bytes`. `dropped` says what was cut (rows past the cap included when `truncated`)."""
    kept: list[tuple[Any, ...]] = []
    cells_cut = 0
    size = 0
    for row in rows:
        cells: list[Any] = []
        cut = row_size = 0
        for value in row:
            if isinstance(value, str) and len(value) > max_cell_chars:
                cut += 1
                value = value[:max_cell_chars] + "…"
            cells.append(value)
            row_size += len(value) if isinstance(value, str) else 8
        if size + row_size > max_bytes and kept:
            break
        size += row_size
        cells_cut += cut
        kept.append(tuple(cells))
    notes: list[str] = []
    if len(kept) < len(rows):
        notes.append(f"rows after the first {len(kept):,} dropped past the {max_bytes:,}-byte table limit")
    elif truncated:
        notes.append(f"rows past {row_cap:,} dropped")
    if cells_cut:
        notes.append(
            f"{cells_cut:,} cell{'s' if cells_cut != 1 else ''} cut to {max_cell_chars:,} characters"
        )
    return TableOutput(
        columns=columns,
        rows=tuple(kept),
        truncated=truncated or bool(notes),
        dropped="; ".join(notes) or None,
    )
