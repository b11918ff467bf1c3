"""Task outputs survive JSON and back: what the run journal and the cache rely on."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid
from typing import Any

import pytest

from oxy.workflows import ChartOutput, ConsistencyOutput, LoopOutput, TableOutput
from oxy.workflows.codec import decode, encode, to_plain

TABLE = TableOutput(
    columns=("d", "n", "x"),
    rows=(
        (dt.date(2024, 1, 2), decimal.Decimal("1.50"), b"\x00\x01"),
        (dt.datetime(2024, 1, 2, 3, 4, 5), 7, uuid.UUID(int=1)),
        (dt.time(1, 2), dt.timedelta(seconds=90), None),
    ),
    truncated=True,
)

VALUES: list[Any] = [
    "text",
    3,
    None,
    TABLE,
    LoopOutput(items=({"value": "a", "t": TABLE, "s": "x"}, {"value": 2, "t": TABLE, "s": "y"})),
    ConsistencyOutput(value="40 users", score=0.75, answers=("40 users", "41 users")),
    ChartOutput(spec={"mark": "bar", "data": {"values": [{"a": 1}]}}, title="t"),
    {"sub": {"report": "r", "table": TABLE}, "__oxy__": "tricky"},
    [1, "a", [TABLE]],
]


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
def test_encode_then_decode_gives_the_value_back(value: Any) -> None:
    text = json.dumps(encode(value))
    assert decode(json.loads(text)) == value


def test_plain_json_for_exports() -> None:
    assert to_plain(TABLE)[0] == {"d": "2024-01-02", "n": 1.5, "x": "b'\\x00\\x01'"}
    loop = LoopOutput(items=({"value": "a", "n": 1},))
    assert to_plain({"loop": loop, "c": ConsistencyOutput(value="v", score=1.0)}) == {
        "loop": [{"value": "a", "n": 1}],
        "c": {"value": "v", "score": 1.0},
    }
