"""An answer cut off by `max_tokens` says so everywhere: `/v1` (`finish_reason: length`), the run's
answer, the usage event, and the terminal (issue 9, item 8)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import anyio
import pytest
from click.testing import CliRunner

from oxy import Runtime, load_project, run_file
from oxy.cli import cli
from oxy.serve import create_app
from oxy.testing import Reply, ScriptedModel, ScriptedModelServer

from .conftest import open_client, settings_for

QUICKSTART = Path(__file__).resolve().parents[2] / "projects" / "quickstart"


@pytest.mark.anyio
async def test_v1_reports_length_when_the_answer_was_cut_off(
    project: Path, model: ScriptedModelServer
) -> None:
    model.set_script([Reply(text="The answer is cut", finish_reason="length"), Reply(text="Whole.")] * 2)
    body = {"model": "chat", "messages": [{"role": "user", "content": "Hi"}]}
    async for client in open_client(create_app(settings_for(project))):
        cut = (await client.post("/v1/chat/completions", json=body)).json()
        whole = (await client.post("/v1/chat/completions", json=body)).json()
        assert [cut["choices"][0]["finish_reason"], whole["choices"][0]["finish_reason"]] == [
            "length",
            "stop",
        ]
        finishes = []
        async with client.stream("POST", "/v1/chat/completions", json={**body, "stream": True}) as response:
            async for line in response.aiter_lines():
                if line.startswith("data: {"):
                    choices = json.loads(line.removeprefix("data: "))["choices"]
                    finishes.extend(c["finish_reason"] for c in choices if c["finish_reason"])
        assert finishes == ["length"]


def test_the_answer_and_the_terminal_say_it_was_cut_off(tmp_path: Path) -> None:
    root = tmp_path / "shop"
    shutil.copytree(QUICKSTART, root)
    model = ScriptedModel([Reply(text="Forty two and", finish_reason="length")])
    runtime = Runtime.for_project(load_project(root), models={"smollm2": model})
    result = anyio.run(
        lambda: run_file(root / "agents/analyst.agent.yml", runtime=runtime, prompt="How many?")
    )
    assert result.answer is not None and result.answer.truncated

    with ScriptedModelServer([Reply(text="Forty two and", finish_reason="length")]) as server:
        config = root / "config.yml"
        config.write_text(config.read_text().replace("http://127.0.0.1:8000/v1", server.base_url))
        shown = CliRunner().invoke(
            cli, ["run", str(root / "agents/analyst.agent.yml"), "How many?", "--model", "vllm"]
        )
    assert shown.exit_code == 0, shown.output
    assert "vllm stopped at its max_tokens: the answer above is cut off" in shown.output
