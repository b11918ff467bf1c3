"""A cassette drives the scripted model: the quickstart's committed recording, in-process and over HTTP."""

from __future__ import annotations

import shutil
from pathlib import Path

import anyio
import pytest

from oxy import Runtime, load_project, run_file
from oxy.models import ToolMessage
from oxy.testing import ScriptedModel, ScriptedModelServer, from_cassette

QUICKSTART = Path(__file__).resolve().parents[2] / "projects" / "quickstart"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "quickstart"
    shutil.copytree(QUICKSTART, root)
    return root


def ask(project: Path, runtime: Runtime, question: str, model: str | None = None) -> tuple[str, object, str]:
    agent = project / "agents" / "analyst.agent.yml"
    result = anyio.run(lambda: run_file(agent, runtime=runtime, prompt=question, model=model))
    return result.status, result.output, str(result.error)


def test_the_scripted_model_answers_from_a_cassette_in_process(project: Path) -> None:
    model = ScriptedModel(from_cassette(project / ".oxy/cassettes/default.json"), name="smollm2")
    runtime = Runtime.for_project(load_project(project), models={"smollm2": model})
    assert ask(project, runtime, "How many orders are there?")[:2] == ("ok", "The answer is 240.")
    assert len(model.requests) == 2 and isinstance(model.requests[1].messages[-1], ToolMessage)
    status, _, error = ask(project, runtime, "How many orders are there, please?")
    assert status == "error"
    assert "no recording of this request in " in error and "default.json" in error


def test_the_scripted_server_streams_a_cassettes_answers_over_http(project: Path) -> None:
    tape = project / ".oxy/cassettes/default.json"
    with ScriptedModelServer(from_cassette(tape, model="smollm2")) as server:
        config = project / "config.yml"
        config.write_text(config.read_text().replace("http://127.0.0.1:8000/v1", server.base_url))
        runtime = Runtime.for_project(load_project(project))
        status, output, _ = ask(
            project, runtime, "What is the largest quantity in a single order?", model="vllm"
        )
        assert (status, output) == ("ok", "The largest quantity in a single order is 4.")
        assert {r.model for r in server.requests} == {
            "Qwen/Qwen2.5-7B-Instruct"
        }  # the vllm entry's model_ref
