"""Versioned prompt files and A/B variants, the way a user runs them: `oxy run` records the prompt and
its variant in `run_started`, `--variant` picks one, `oxy serve` keeps a thread on its variant, and
`oxy test --compare variants` puts them side by side."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from oxy import load_project
from oxy.agents.prompt import choose_variant
from oxy.cli import cli
from oxy.config.agent import DefaultAgentConfig
from oxy.config.prompts import text_hash
from oxy.models import SystemMessage
from oxy.serve import ServeSettings, create_app
from oxy.testing import Reply, ScriptedModelServer, ScriptedRequest, Turn
from tests.serve.conftest import open_client

QUICKSTART = Path(__file__).resolve().parents[2] / "projects" / "quickstart"

ANALYST = """\
---
version: 2
description: The analyst, answering in full sentences.
variables:
  tone:
    type: string
    default: friendly
---
You are a {{ tone }} analyst of the {{ databases.shop.dialect }} database. Answer in full sentences.
"""

TERSE = """\
---
version: 1
---
Answer with the number only.
"""

AGENT = """\
description: Counts orders.
model: vllm
system_instructions: prompts/analyst.prompt.md
variants:
  - name: full
    weight: 1
  - name: terse
    weight: 1
    system_instructions: prompts/terse.prompt.md
"""

TESTS = """\
settings:
  runs: 2
cases:
  - name: count
    prompt: How many orders are there?
    assert:
      - contains: "240"
  - name: sentence
    prompt: How many orders in all?
    assert:
      - regex: "orders\\\\.$"
"""


def script(request: ScriptedRequest) -> Turn:
    system = next(m.content for m in request.messages if isinstance(m, SystemMessage))
    if "number only" in system:
        return Reply(text="240")
    return Reply(text=f"[{system.split()[3]}] There are 240 orders.")


@pytest.fixture
def server() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer(script) as server:
        yield server


@pytest.fixture
def project(tmp_path: Path, server: ScriptedModelServer) -> Path:
    root = tmp_path / "quickstart"
    shutil.copytree(QUICKSTART, root)
    config = root / "config.yml"
    config.write_text(config.read_text().replace("http://127.0.0.1:8000/v1", server.base_url))
    (root / "prompts").mkdir()
    (root / "prompts" / "analyst.prompt.md").write_text(ANALYST)
    (root / "prompts" / "terse.prompt.md").write_text(TERSE)
    (root / "agents" / "counter.agent.yml").write_text(AGENT)
    (root / "agents" / "counter.agent.test.yml").write_text(TESTS)
    return root  # the quickstart's own analyst.agent.test.yml stays: its agent has no variants


def run(project: Path, *args: str) -> tuple[int, list[dict[str, object]]]:
    result = CliRunner().invoke(
        cli,
        ["run", str(project / "agents/counter.agent.yml"), "How many orders?", "--format", "jsonl", *args],
    )
    return result.exit_code, [json.loads(line) for line in result.stdout.splitlines()]


def test_run_started_records_the_prompt_file_its_version_hash_and_variant(
    project: Path, server: ScriptedModelServer
) -> None:
    code, events = run(project, "--variant", "full")
    assert code == 0
    started = events[0]
    body = ANALYST.split("---\n", 2)[2]
    assert started["prompt"] == {
        "name": "prompts/analyst.prompt.md",
        "version": "2",
        "sha256": text_hash(body),
        "variant": "full",
    }
    system = server.requests[-1].messages[0]
    assert isinstance(system, SystemMessage)
    assert system.content.startswith("You are a friendly analyst of the duckdb database.")  # the default
    assert events[-1]["output"] == "[friendly] There are 240 orders."

    code, events = run(project, "--variant", "terse")
    assert code == 0 and events[-1]["output"] == "240"
    assert events[0]["prompt"] == {
        "name": "prompts/terse.prompt.md",
        "version": "1",
        "sha256": text_hash("Answer with the number only.\n"),
        "variant": "terse",
    }


def test_without_variant_each_run_picks_one_by_weight(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    draws = iter([0.2, 0.7, 0.49, 0.5])  # weights 1:1: below a half picks the first
    monkeypatch.setattr("oxy.agents.prompt.random.random", lambda: next(draws))
    picked = [run(project)[1][0]["prompt"]["variant"] for _ in range(4)]  # type: ignore[index]
    assert picked == ["full", "terse", "full", "terse"]


def test_an_inline_prompt_is_recorded_by_the_agent_files_name(project: Path) -> None:
    agent = project / "agents" / "counter.agent.yml"
    agent.write_text("model: vllm\nsystem_instructions: |\n  Answer with the number only.\n")
    code, events = run(project)
    assert code == 0
    assert events[0]["prompt"] == {
        "name": "agents/counter.agent.yml#system_instructions",
        "version": None,
        "sha256": text_hash("Answer with the number only.\n"),
        "variant": None,
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--variant", "loud"), "error: agents/counter.agent.yml: no variant 'loud' (variants: full, terse)"),
    ],
)
def test_bad_variants_are_one_line_errors(project: Path, args: tuple[str, ...], message: str) -> None:
    result = CliRunner().invoke(cli, ["run", str(project / "agents/counter.agent.yml"), "Hi?", *args])
    assert result.exit_code == 1 and result.stderr.strip() == message, result.output
    sql = CliRunner().invoke(cli, ["run", str(project / "queries/top_products.sql"), "--variant", "full"])
    assert sql.exit_code == 1
    assert sql.stderr.strip() == (
        "error: top_products.sql: --variant picks among an agent's `variants:`; this is not an agent"
    )


def test_a_template_error_in_a_prompt_file_names_the_file_and_line(project: Path) -> None:
    (project / "prompts" / "terse.prompt.md").write_text("---\nversion: 1\n---\nAnswer {{ nubmer }}.\n")
    result = CliRunner().invoke(
        cli, ["run", str(project / "agents/counter.agent.yml"), "Hi?", "--variant", "terse"]
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("error: prompts/terse.prompt.md:4:")
    assert "nubmer" in result.stderr


def test_compare_variants_puts_them_side_by_side(project: Path) -> None:
    result = CliRunner().invoke(cli, ["test", "--project", str(project), "--compare", "variants"])
    assert result.exit_code == 1  # terse fails the full-sentence case
    assert result.stdout.splitlines() == [
        "case          full     terse",
        "count         100%      100%",
        "sentence      100%        0%",
        "score         1.00      0.50",
        "verdict     passed    failed",
        "score: the mean pass rate (average); each variant needs 1.00",
    ]
    result = CliRunner().invoke(
        cli, ["test", "--project", str(project), "--compare", "variants", "--format", "json"]
    )
    report = json.loads(result.stdout)
    assert report["passed"] is False
    assert {name: r["score"] for name, r in report["variants"].items()} == {"full": 1.0, "terse": 0.5}
    assert report["variants"]["terse"]["cases"][0]["variants"] == ["terse", "terse"]  # which arm each run had
    tests = str(project / "agents" / "counter.agent.test.yml")
    one = CliRunner().invoke(cli, ["test", "--project", str(project), tests, "--variant", "full"])
    assert one.exit_code == 0, one.output
    typo = CliRunner().invoke(cli, ["test", "--project", str(project), tests, "--variant", "ful"])
    assert (typo.exit_code, typo.stdout) == (1, "")
    assert typo.stderr == "error: --variant 'ful': no agent under test has it (variants: full, terse)\n"


@pytest.fixture
async def client(project: Path) -> AsyncIterator[httpx.AsyncClient]:
    async for c in open_client(create_app(ServeSettings(project=project))):
        yield c


@pytest.mark.anyio
async def test_a_served_thread_keeps_its_variant(client: httpx.AsyncClient, project: Path) -> None:
    config = load_project(project).agent("agents/counter.agent.yml")
    assert isinstance(config, DefaultAgentConfig)
    for _ in range(4):
        first = (
            await client.post("/api/agents/counter/runs", json={"prompt": "Orders?", "stream": False})
        ).json()
        thread, run_ids = first["thread_id"], [first["run_id"]]
        for _ in range(2):
            more = await client.post(
                "/api/agents/counter/runs", json={"prompt": "Again?", "thread_id": thread, "stream": False}
            )
            run_ids.append(more.json()["run_id"])
        expected = choose_variant(config, file="agents/counter.agent.yml", key=thread)
        assert expected is not None
        for run_id in run_ids:
            events = (await client.get(f"/api/runs/{run_id}/events")).json()
            assert events[0]["kind"] == "run_started"
            assert events[0]["prompt"]["variant"] == expected.name  # the thread's, every time
            answer = events[-1]["output"]
            assert (answer == "240") is (expected.name == "terse")  # and that variant's prompt ran
