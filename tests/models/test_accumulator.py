"""Tool-call pieces from the shapes servers really send."""

from __future__ import annotations

from oxy.models import ModelResponse, ResponseAccumulator, ToolCall


def test_vllm_pieces_by_index() -> None:
    acc = ResponseAccumulator()
    acc.tool_call(0, "a", "f", "")
    acc.tool_call(1, "b", "g", '{"y"')
    acc.tool_call(0, None, None, '{"x": ')
    acc.tool_call(0, None, None, "1}")
    acc.tool_call(1, None, None, ": 2}")
    assert acc.response() == ModelResponse(
        tool_calls=(
            ToolCall(id="a", name="f", arguments='{"x": 1}'),
            ToolCall(id="b", name="g", arguments='{"y": 2}'),
        ),
        finish_reason="tool_calls",
    )


def test_whole_calls_all_numbered_zero() -> None:
    # Some servers send each complete call in one chunk, every one at index 0.
    acc = ResponseAccumulator()
    first = acc.tool_call(0, "a", "f", "{}")
    second = acc.tool_call(0, "b", "g", '{"k": 1}')
    assert (first.index, second.index) == (0, 1)
    assert [c.name for c in acc.response().tool_calls] == ["f", "g"]


def test_text_and_missing_ids() -> None:
    acc = ResponseAccumulator()
    assert not acc.started
    acc.text("Hi")
    acc.tool_call(0, None, "f", "{}")
    acc.finish_reason = "stop"
    assert acc.started
    assert acc.response() == ModelResponse(
        text="Hi", tool_calls=(ToolCall(id="call_0", name="f", arguments="{}"),), finish_reason="stop"
    )
