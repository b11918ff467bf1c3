"""Task outputs to JSON and back, so a run's finished tasks can be recorded and replayed.

`encode(output)` gives JSON-ready objects (tables, loops, consistency results and charts tagged
with `"__oxy__"`, as are table cells JSON has no type for: dates, decimals, bytes);
`decode(encode(x))` gives back an equal `x`. `to_plain(output)` is the untagged form that a `json`
export writes: a table as a list of records, a loop as a list of dicts.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import uuid
from collections.abc import Mapping
from typing import Any

from oxy.databases.table import TableOutput
from oxy.workflows.outputs import ChartOutput, ConsistencyOutput, LoopOutput

__all__ = ["decode", "encode", "to_plain"]

TAG = "__oxy__"


def encode(value: Any) -> Any:
    """`value` as JSON-ready objects that `decode` turns back into an equal value."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, TableOutput):
        return {
            TAG: "table",
            "columns": list(value.columns),
            "rows": [[encode(cell) for cell in row] for row in value.rows],
            "truncated": value.truncated,
            **({"dropped": value.dropped} if value.dropped else {}),
        }
    if isinstance(value, LoopOutput):
        return {TAG: "loop", "items": [encode(dict(item)) for item in value.items]}
    if isinstance(value, ConsistencyOutput):
        return {
            TAG: "consistency",
            "value": value.value,
            "score": value.score,
            "answers": list(value.answers),
        }
    if isinstance(value, ChartOutput):
        return {TAG: "chart", "spec": encode(dict(value.spec)), "title": value.title}
    if isinstance(value, Mapping):
        items: dict[str, Any] = {str(k): encode(v) for k, v in value.items()}  # pyright: ignore[reportUnknownArgumentType]
        return {TAG: "dict", "items": items} if TAG in items else items
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]  # pyright: ignore[reportUnknownVariableType]
    return _encode_scalar(value)


def _encode_scalar(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {TAG: "datetime", "v": value.isoformat()}
    if isinstance(value, dt.date):
        return {TAG: "date", "v": value.isoformat()}
    if isinstance(value, dt.time):
        return {TAG: "time", "v": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return {TAG: "timedelta", "v": value.total_seconds()}
    if isinstance(value, decimal.Decimal):
        return {TAG: "decimal", "v": str(value)}
    if isinstance(value, bytes | bytearray | memoryview):
        return {TAG: "bytes", "v": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, uuid.UUID):
        return {TAG: "uuid", "v": str(value)}
    return str(value)  # a type JSON cannot hold and we cannot rebuild: keep its text


_SCALARS: dict[str, Any] = {
    "datetime": dt.datetime.fromisoformat,
    "date": dt.date.fromisoformat,
    "time": dt.time.fromisoformat,
    "timedelta": lambda seconds: dt.timedelta(seconds=float(seconds)),  # pyright: ignore[reportUnknownLambdaType]
    "decimal": decimal.Decimal,
    "bytes": base64.b64decode,
    "uuid": uuid.UUID,
}


def decode(data: Any) -> Any:
    """The value `encode` was given."""
    if isinstance(data, list):
        return [decode(v) for v in data]  # pyright: ignore[reportUnknownVariableType]
    if not isinstance(data, dict):
        return data
    obj: dict[str, Any] = data  # pyright: ignore[reportUnknownVariableType]
    tag = obj.get(TAG)
    if tag is None:
        return {k: decode(v) for k, v in obj.items()}
    if tag == "table":
        return TableOutput(
            columns=tuple(obj["columns"]),
            rows=tuple(tuple(decode(cell) for cell in row) for row in obj["rows"]),
            truncated=bool(obj.get("truncated", False)),
            dropped=obj.get("dropped"),
        )
    if tag == "loop":
        return LoopOutput(items=tuple(decode(item) for item in obj["items"]))
    if tag == "consistency":
        return ConsistencyOutput(
            value=obj["value"], score=float(obj["score"]), answers=tuple(obj.get("answers", ()))
        )
    if tag == "chart":
        return ChartOutput(spec=decode(obj["spec"]), title=obj.get("title"))
    if tag == "dict":
        return {k: decode(v) for k, v in obj["items"].items()}
    if tag in _SCALARS:
        return _SCALARS[tag](obj["v"])
    raise ValueError(f"unknown recorded output type {tag!r}")


def to_plain(value: Any) -> Any:
    """JSON-ready objects without tags: a table is a list of records, a loop a list of dicts."""
    if isinstance(value, TableOutput):
        return [{k: to_plain(v) for k, v in record.items()} for record in value.records()]
    if isinstance(value, LoopOutput):
        return [to_plain(dict(item)) for item in value.items]
    if isinstance(value, ConsistencyOutput):
        return {"value": value.value, "score": value.score}
    if isinstance(value, ChartOutput):
        return to_plain(dict(value.spec))
    if isinstance(value, Mapping):
        return {str(k): to_plain(v) for k, v in value.items()}  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]  # pyright: ignore[reportUnknownVariableType]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.date | dt.time | dt.datetime):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    return str(value)
