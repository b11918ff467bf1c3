"""Charts as Vega-Lite specs: built from a table, saved as a standalone HTML page or a PNG.

`chart_spec(table, ...)` picks sensible defaults (x: the first non-numeric column, y: the first
numeric one, a line for dates, bars otherwise) and inlines the rows. `save_chart(spec, path)`
writes `.html` (vega-embed from a CDN) or `.png` (rendered offline by `vl-convert-python`).
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from oxy.databases.table import TableOutput
from oxy.errors import ConfigError, NotSupported
from oxy.workflows.codec import to_plain
from oxy.workflows.files import atomic_write, atomic_write_text

__all__ = ["CHART_FORMATS", "chart_spec", "save_chart"]

VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
CHART_FORMATS = ("html", "png", "json")


def chart_spec(
    table: TableOutput,
    *,
    chart_type: str | None = None,
    x: str | None = None,
    y: str | None = None,
    color: str | None = None,
    title: str | None = None,
) -> dict[str, Any]:
    """A Vega-Lite spec of `table`; a `ConfigError` names a column the table does not have."""
    if not table.columns:
        raise ConfigError("cannot chart a table with no columns")
    numeric = [c for c in table.columns if _is_numeric(table.column(c))]
    x = x or next((c for c in table.columns if c not in numeric), table.columns[0])
    y = y or next((c for c in numeric if c != x), None) or next((c for c in table.columns if c != x), x)
    for column in (x, y, color):
        if column is not None and column not in table.columns:
            raise ConfigError(f"the table has no column {column!r}; columns: {', '.join(table.columns)}")
    temporal = _is_temporal(table.column(x))
    mark = chart_type or ("line" if temporal else "bar")
    spec: dict[str, Any] = {
        "$schema": VEGA_LITE_SCHEMA,
        "data": {"values": to_plain(table)},
        "mark": {"type": mark, "tooltip": True},
    }
    if title:
        spec["title"] = title
    y_type = "quantitative" if y in numeric else "nominal"
    if mark == "arc":
        spec["encoding"] = {"theta": {"field": y, "type": y_type}, "color": {"field": x, "type": "nominal"}}
        return spec
    x_type = "temporal" if temporal else "quantitative" if x in numeric and mark != "bar" else "nominal"
    encoding: dict[str, Any] = {"x": {"field": x, "type": x_type}, "y": {"field": y, "type": y_type}}
    if color is not None:
        encoding["color"] = {"field": color, "type": "nominal"}
    spec["encoding"] = encoding
    return spec


def _is_numeric(values: list[Any]) -> bool:
    present = [v for v in values if v is not None]
    return bool(present) and all(
        isinstance(v, int | float | decimal.Decimal) and not isinstance(v, bool) for v in present
    )


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?")


def _is_temporal(values: list[Any]) -> bool:
    """Dates, or text in ISO date form (databases hand dates back as ISO text)."""
    present = [v for v in values if v is not None]
    return bool(present) and all(
        isinstance(v, dt.date) or (isinstance(v, str) and _ISO_DATE.match(v)) for v in present
    )


_HTML = """<!doctype html>
<html>
<head>
<meta charset="utf-8">
<title>{title}</title>
<script src="https://cdn.jsdelivr.net/npm/vega@5"></script>
<script src="https://cdn.jsdelivr.net/npm/vega-lite@5"></script>
<script src="https://cdn.jsdelivr.net/npm/vega-embed@6"></script>
</head>
<body>
<div id="chart"></div>
<script type="application/json" id="spec">{spec}</script>
<script>vegaEmbed("#chart", JSON.parse(document.getElementById("spec").textContent));</script>
</body>
</html>
"""


def save_chart(spec: Mapping[str, Any], path: Path) -> None:
    """Write `spec` to `path` as HTML, PNG or JSON, by the file's suffix."""
    suffix = path.suffix.lower().lstrip(".")
    text = json.dumps(spec, ensure_ascii=False)
    if suffix == "json":
        atomic_write_text(path, json.dumps(spec, indent=2, ensure_ascii=False) + "\n")
    elif suffix == "html":
        title = str(spec.get("title", "chart")).replace("<", "&lt;")
        atomic_write_text(path, _HTML.format(title=title, spec=text.replace("</", "<\\/")))
    elif suffix == "png":
        try:
            import vl_convert  # pyright: ignore[reportMissingTypeStubs]
        except ImportError:
            raise NotSupported(
                "saving a chart as PNG needs vl-convert-python: pip install 'oxy-engine[charts]' (or save it as .html)"
            ) from None
        png: bytes = vl_convert.vegalite_to_png(text, scale=2)  # pyright: ignore[reportUnknownMemberType]
        atomic_write(path, lambda f: f.write(png))
    else:
        raise ConfigError(f"cannot save a chart as {path.name!r}; use one of: {', '.join(CHART_FORMATS)}")
