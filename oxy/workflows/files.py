"""Writing task outputs to files (`export`, `cache`) without ever leaving one half-written.

Every write goes to a temporary file beside the target and is renamed over it, so a reader sees the
old file or the new one, never a mix. Formats: `sql` and `txt` (text; a SQL task exports its query),
`csv` (a table), `json`, `docx` (headings, paragraphs and tables from the output's markdown).
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from oxy.databases.table import TableOutput
from oxy.errors import ConfigError, NotSupported
from oxy.workflows.codec import decode, encode, to_plain

__all__ = ["atomic_write", "export_output", "read_cached", "write_cached"]


def atomic_write(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    """Call `write` with a temporary file beside `path`, then rename it over `path`. The file gets the
    mode of the one it replaces, else the usual 0644 (a temporary file is made owner-only)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        mode = 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, mode)
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def export_output(output: Any, path: Path, fmt: str, *, sql: str | None = None, task: str) -> None:
    """Write `output` to `path` as `fmt` (`sql`, `csv`, `json`, `txt`, `docx`)."""
    if fmt == "sql":
        atomic_write_text(path, sql if sql is not None else _text(output))
    elif fmt == "txt":
        atomic_write_text(path, _text(output))
    elif fmt == "json":
        atomic_write_text(path, json.dumps(to_plain(output), indent=2, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        atomic_write_text(path, _csv(output, task=task))
    elif fmt == "docx":
        atomic_write(path, lambda f: _docx(_text(output), f))
    else:  # pragma: no cover - the config model allows only the formats above
        raise ConfigError(f"task {task!r}: unknown export format {fmt!r}")


def _text(output: Any) -> str:
    return output if isinstance(output, str) else str(output)


def _csv(output: Any, *, task: str) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if isinstance(output, TableOutput):
        writer.writerow(output.columns)
        writer.writerows(output.rows)
        return buffer.getvalue()
    plain = to_plain(output)
    if isinstance(plain, list) and all(isinstance(r, dict) for r in plain) and plain:  # pyright: ignore[reportUnknownVariableType]
        records: list[dict[str, Any]] = plain  # pyright: ignore[reportUnknownVariableType]
        columns = list(dict.fromkeys(k for r in records for k in r))
        writer.writerow(columns)
        writer.writerows([[_cell(r.get(c)) for c in columns] for r in records])
        return buffer.getvalue()
    raise ConfigError(
        f"task {task!r}: a csv export needs a table (an execute_sql task's output), "
        f"got {type(output).__name__}; use format txt or json"
    )


def _cell(value: Any) -> Any:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value


def _docx(text: str, out: IO[bytes]) -> None:
    try:
        import docx  # lazy: python-docx loads only for a docx export
    except ImportError:  # pragma: no cover - python-docx is a dependency
        raise NotSupported("docx export needs python-docx: pip install python-docx") from None
    document = docx.Document()
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith("|") and i + 1 < len(lines) and set(lines[i + 1].strip()) <= set("|-: "):
            rows: list[list[str]] = []
            while i < len(lines) and lines[i].strip().startswith("|"):
                rows.append([c.strip() for c in lines[i].strip().strip("|").split("|")])
                i += 1
            _docx_table(document, [rows[0], *rows[2:]])
            continue
        if stripped.startswith("#"):
            level = min(len(stripped) - len(stripped.lstrip("#")), 9)
            document.add_heading(stripped[level:].strip(), level=level)
        elif stripped:
            document.add_paragraph(stripped)
        i += 1
    document.save(out)


def _docx_table(document: Any, rows: list[list[str]]) -> None:
    width = max(len(r) for r in rows)
    table = document.add_table(rows=len(rows), cols=width)
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            table.cell(r, c).text = cell


def write_cached(path: Path, output: Any) -> None:
    """Text is cached as it is (a cached SQL query is a .sql file); anything else as tagged JSON."""
    if isinstance(output, str):
        atomic_write_text(path, output)
    else:
        atomic_write_text(path, json.dumps(encode(output), ensure_ascii=False))


def read_cached(path: Path, *, text: bool) -> Any:
    """The output `write_cached` wrote; `text` when the task's output is a string."""
    raw = path.read_text(encoding="utf-8")
    return raw if text else decode(json.loads(raw))
