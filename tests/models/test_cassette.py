"""Cassettes: record a model's answers once, replay them with no model at all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oxy.errors import ModelError
from oxy.models import (
    AssistantMessage,
    Message,
    ModelSettings,
    ResponseDone,
    SystemMessage,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolMessage,
    UserMessage,
)
from oxy.models.cassette import Cassette, CassetteClient
from oxy.testing import Reply, ScriptedModel, tool_call

pytestmark = pytest.mark.anyio

QUESTION: list[Message] = [SystemMessage(content="You help."), UserMessage(content="How many orders?")]


def after_call(call_id: str) -> list[Message]:
    call = ToolCall(id=call_id, name="execute_sql", arguments='{"sql": "select 1"}')
    return [
        *QUESTION,
        AssistantMessage(tool_calls=(call,)),
        ToolMessage(tool_call_id=call_id, content="| 240 |"),
    ]


async def test_record_then_replay_without_the_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOP_API_KEY", "sk-very-secret-1234")
    path = tmp_path / "c.json"
    model = ScriptedModel(
        [
            Reply(tool_calls=[tool_call("execute_sql", {"sql": "select 1"}, id="live-id-1")]),
            Reply(text="There are 240 orders."),
            Reply(text="Again: 240, key sk-very-secret-1234."),
        ]
    )
    recording = Cassette(path, "record")
    client = CassetteClient("m", recording, lambda: model)
    first = await client.request(QUESTION, settings=ModelSettings(temperature=0.0))
    assert first.tool_calls[0].id == "live-id-1"
    await client.request(after_call("live-id-1"))
    await client.request(after_call("another-id"))  # the same request, ids aside
    recording.save()

    data = json.loads(path.read_text())
    assert len(data["interactions"]) == 2
    second = data["interactions"][1]
    assert second["request"]["messages"][2]["tool_calls"][0]["id"] == "call_0"
    assert [r["text"] for r in second["responses"]] == [
        "There are 240 orders.",
        "Again: 240, key [redacted SHOP_API_KEY].",
    ]
    assert "sk-very-secret" not in path.read_text()

    replay = CassetteClient("m", Cassette(path, "replay"))  # no model behind it at all
    answer = await replay.request(QUESTION, settings=ModelSettings(temperature=0.0))
    assert answer.tool_calls == first.tool_calls
    texts = [(await replay.request(after_call(f"x{i}"))).text for i in range(3)]
    assert texts == [
        "There are 240 orders.",
        "Again: 240, key [redacted SHOP_API_KEY].",
        "There are 240 orders.",
    ]
    deltas = [d async for d in replay.stream(QUESTION, settings=ModelSettings(temperature=0.0))]
    assert isinstance(deltas[0], ToolCallDelta) and isinstance(deltas[-1], ResponseDone)


async def test_a_request_without_a_recording_fails_loudly(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    recording = Cassette(path, "record")
    await CassetteClient("m", recording, lambda: ScriptedModel([Reply(text="Hi.")])).request(QUESTION)
    recording.save()
    replay = CassetteClient("m", Cassette(path, "replay", display=".oxy/cassettes/c.json"))
    changed = [SystemMessage(content="You help, briefly."), QUESTION[1]]
    with pytest.raises(
        ModelError, match=r"^Model 'm': no recording of this request in \.oxy/cassettes/c\.json: the prompt"
    ):
        await replay.request(changed)
    with pytest.raises(ModelError, match="no recording"):
        await replay.request(QUESTION, settings=ModelSettings(temperature=0.5))  # settings count too
    assert (await replay.request(QUESTION)).text == "Hi."
    deltas = [d async for d in replay.stream(QUESTION)]
    assert isinstance(deltas[0], TextDelta) and deltas[0].text == "Hi."


async def test_recording_again_replaces_only_the_requests_it_makes(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    other = [UserMessage(content="Other question")]
    first = Cassette(path, "record")
    client = CassetteClient("m", first, lambda: ScriptedModel([Reply(text="A1"), Reply(text="B1")]))
    await client.request(QUESTION)
    await client.request(other)
    first.save()
    second = Cassette(path, "record")
    await CassetteClient("m", second, lambda: ScriptedModel([Reply(text="A2")])).request(QUESTION)
    second.save()
    replay = CassetteClient("m", Cassette(path, "replay"))
    assert [(await replay.request(QUESTION)).text, (await replay.request(other)).text] == ["A2", "B1"]


def test_replaying_a_missing_cassette_says_to_record(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no cassette at .*: record one first with --record"):
        Cassette(tmp_path / "none.json", "replay")


async def test_keys_do_not_depend_on_the_environments_secrets_and_url_passwords_are_redacted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "c.json"
    asked = [UserMessage(content="Connect with postgres://app:s3cret-pw@db/shop")]
    monkeypatch.setenv("DATABASE_URL", "postgres://app:s3cret-pw@db/shop")
    recording = Cassette(path, "record")
    await CassetteClient("m", recording, lambda: ScriptedModel([Reply(text="Done.")])).request(asked)
    recording.save()
    assert "s3cret-pw" not in path.read_text() and "[redacted DATABASE_URL]" in path.read_text()
    monkeypatch.delenv("DATABASE_URL")  # CI has no such variable: the key must be the same
    assert (await CassetteClient("m", Cassette(path, "replay")).request(asked)).text == "Done."


async def test_recording_over_an_unreadable_cassette_starts_afresh(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text("{not json")
    with pytest.raises(ModelError, match="is not readable"):
        Cassette(path, "replay")
    recording = Cassette(path, "record")
    await CassetteClient("m", recording, lambda: ScriptedModel([Reply(text="Hi.")])).request(QUESTION)
    recording.save()
    assert (await CassetteClient("m", Cassette(path, "replay")).request(QUESTION)).text == "Hi."
