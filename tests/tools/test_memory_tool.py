"""Long-term memory: `remember` and `recall` per tenant and user (never across either),
`{{ memory.relevant }}` in the instructions, and `oxy memory list|forget`."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from click.testing import CliRunner

from oxy import Runtime, load_project, run_file
from oxy.cli import cli
from oxy.execution.context import Caller
from oxy.models import SystemMessage, ToolMessage
from oxy.testing import Reply, ScriptedModel, tool_call

AGENT = """\
model: m
system_instructions: |
  You help. Known about this user:
  {{ memory.relevant }}
memory:
  long_term: true
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    (root / "agents").mkdir(parents=True)
    (root / "config.yml").write_text(
        "models:\n  - name: m\n    vendor: vllm\n    model_ref: m\n    api_url: http://127.0.0.1:9/v1\n"
    )
    (root / "agents" / "a.agent.yml").write_text(AGENT)
    return root


def run(
    project: Path, call: tuple[str, dict[str, str]] | None, *, tenant: str = "local", user: str | None
) -> tuple[str, str]:
    """One run whose model makes `call` (if any) then answers: (its system prompt, the tool's result)."""
    script = [Reply(tool_calls=[tool_call(*call)]), Reply(text="ok")] if call else [Reply(text="ok")]
    model = ScriptedModel(script, name="m")
    runtime = Runtime.for_project(load_project(project), models={"m": model})
    caller = Caller(tenant=tenant, user=user)
    result = anyio.run(
        lambda: run_file(project / "agents/a.agent.yml", runtime=runtime, prompt="Milk?", caller=caller)
    )
    runtime.close()
    assert result.status == "ok", result.error
    system = model.requests[0].messages[0]
    assert isinstance(system, SystemMessage)
    last = model.requests[-1].messages[-1]
    return system.content, last.content if isinstance(last, ToolMessage) else ""


def test_memories_are_kept_per_tenant_and_user(project: Path) -> None:
    assert (
        run(project, ("remember", {"text": "Alice takes oat milk in her flat white."}), user="alice")[1]
        == "Remembered."
    )
    run(project, ("remember", {"text": "Bob is allergic to nuts."}), user="bob")
    recalled = run(project, ("recall", {"query": "which milk does she like"}), user="alice")[1]
    assert recalled.startswith("- Alice takes oat milk in her flat white. (remembered ")
    assert "Bob" not in recalled
    assert "Alice" not in run(project, ("recall", {"query": "milk"}), user="bob")[1]
    assert (
        run(project, ("recall", {"query": "milk"}), tenant="acme", user="alice")[1]
        == "Nothing remembered matches."
    )
    assert run(project, ("recall", {"query": "milk"}), user=None)[1] == "Nothing remembered matches."


def test_relevant_memories_go_into_the_instructions(project: Path) -> None:
    run(project, ("remember", {"text": "Alice takes oat milk."}), user="alice")
    assert (
        run(project, None, user="alice")[0] == "You help. Known about this user:\n- Alice takes oat milk.\n"
    )
    assert run(project, None, user="bob")[0] == "You help. Known about this user:\n(nothing remembered yet)\n"


def test_an_empty_or_huge_memory_is_refused(project: Path) -> None:
    assert run(project, ("remember", {"text": "  "}), user="alice")[1].startswith(
        "Error: there is nothing to remember"
    )
    assert "at most 2000 characters" in run(project, ("remember", {"text": "x" * 2001}), user="alice")[1]


def test_oxy_memory_lists_and_forgets(project: Path) -> None:
    run(project, ("remember", {"text": "Alice takes oat milk."}), user="alice")
    run(project, ("remember", {"text": "Bob is allergic to nuts."}), user="bob")
    listed = CliRunner().invoke(cli, ["memory", "list", "--project", str(project)])
    assert listed.exit_code == 0
    lines = listed.stdout.splitlines()
    assert [line.split("  ", 3)[2:] for line in lines] == [
        ["bob", "Bob is allergic to nuts."],
        ["alice", "Alice takes oat milk."],
    ]
    alice = CliRunner().invoke(cli, ["memory", "list", "--user", "alice", "--project", str(project)])
    assert len(alice.stdout.splitlines()) == 1
    memory_id = lines[0].split()[0]
    gone = CliRunner().invoke(cli, ["memory", "forget", memory_id, "--project", str(project)])
    assert (gone.exit_code, gone.stdout) == (0, "forgot 1 memory\n")
    again = CliRunner().invoke(cli, ["memory", "forget", memory_id, "--project", str(project)])
    assert (
        again.exit_code == 1
        and again.stderr == f"error: no memory {memory_id!r} (oxy memory list shows them)\n"
    )
    other = CliRunner().invoke(cli, ["memory", "list", "--tenant", "acme", "--project", str(project)])
    assert (other.stdout, other.stderr) == ("", "nothing remembered\n")


def test_memory_on_a_routing_agent_is_a_validation_error(project: Path) -> None:
    (project / "agents" / "r.agent.yml").write_text(
        "type: routing\nmodel: m\nroutes: [agents/a.agent.yml]\nmemory:\n  long_term: true\n"
    )
    result = CliRunner().invoke(cli, ["validate", str(project)])
    assert result.exit_code == 1
    assert "agents/r.agent.yml:5:3: memory is for default agents" in result.output
