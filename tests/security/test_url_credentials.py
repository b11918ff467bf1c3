"""Credentials written into `api_url` never reach a message, a response or the run store (issue 9, item 8)."""

from __future__ import annotations

from pathlib import Path

import anyio
import httpx
import pytest
from click.testing import CliRunner

from oxy.cli import cli
from oxy.config.secrets import redact_url, url_secrets
from oxy.serve import ServeSettings, create_app

URL = "http://oxyuser:s3cretpass@127.0.0.1:9/v1?api-key=k3y-12345&region=eu"
CONFIG = f"""\
models:
  - name: leaky
    vendor: vllm
    model_ref: m
    api_url: {URL}
    max_retries: 0
databases: []
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "agents").mkdir(parents=True)
    (root / "config.yml").write_text(CONFIG)
    (root / "agents" / "chat.agent.yml").write_text("model: leaky\nsystem_instructions: Chat.\n")
    return root


def test_redact_url() -> None:
    assert redact_url(URL) == "http://oxyuser:***@127.0.0.1:9/v1?api-key=***&region=eu"
    assert url_secrets("http://127.0.0.1:8000/v1") == ()
    # A token as the user name; values with `+` and escapes are blanked as written and as decoded.
    assert redact_url("http://sk-live-abcdef@host/v1") == "http://***@host/v1"
    assert redact_url("http://h/v1?api-key=ab+cd&token=ab%2fcd") == "http://h/v1?api-key=***&token=***"
    assert {"ab cd", "ab/cd"} <= set(url_secrets("http://h/v1?api-key=ab+cd&token=ab%2fcd"))


def test_the_cli_and_validate_never_show_the_credentials(project: Path) -> None:
    result = CliRunner().invoke(
        cli, ["run", str(project / "agents/chat.agent.yml"), "Hi", "--format", "jsonl"]
    )
    assert result.exit_code == 1
    shown = result.stdout + result.stderr
    assert "127.0.0.1:9" in shown  # the error names the server
    assert "s3cretpass" not in shown and "k3y-12345" not in shown
    validated = CliRunner().invoke(cli, ["validate", "--project", str(project)])
    assert (
        "api_url 'http://oxyuser:***@127.0.0.1:9/v1?api-key=***&region=eu' holds a credential"
        in validated.output
    )
    assert "s3cretpass" not in validated.output


def test_served_errors_and_stored_events_never_hold_the_credentials(project: Path) -> None:
    async def main() -> str:
        app = create_app(ServeSettings(project=project))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
                run = await client.post("/api/agents/chat/runs", json={"prompt": "Hi", "stream": False})
                events = await client.get(
                    f"/api/runs/{run.json()['run_id']}/events", params={"stream": "false"}
                )
                return run.text + events.text

    text = anyio.run(main)
    assert "127.0.0.1:9" in text
    assert "s3cretpass" not in text and "k3y-12345" not in text
    assert "s3cretpass" not in (project / ".oxy" / "oxy.db").read_bytes().decode("latin-1")
