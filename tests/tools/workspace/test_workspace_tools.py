"""An agent working in a temp workspace through the `type: workspace` tools, with the scripted model:
read → edit → run the tests with bash; permissions (deny, ask, allow, compound commands); path escapes
by `..`, absolute paths and symlinks; a clean environment; background tasks checked by PID; webfetch
from an allowed host only; to-do lists and questions."""

from __future__ import annotations

import http.server
import json
import os
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import anyio
import pytest
from click.testing import CliRunner

from oxy import Runtime, load_project, run_file
from oxy.cli import cli
from oxy.events.sinks import ListSink
from oxy.events.types import Event, InputAnswered, InputRequested, ToolResultEvent
from oxy.execution.context import ExecutionContext
from oxy.execution.input import FixedInput, InputAnswer, InputChannel, InputRequest
from oxy.testing import Reply, ScriptedModel, tool_call

CALC = "def add(a, b):\n    return a - b\n"
TEST_CALC = "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"

AGENT = """\
model: m
system_instructions: You fix code.
max_tool_calls: 20
tools:
  - type: workspace
    tools: [read, write, edit, glob, grep, bash, todo, question, task_start, task_output, task_stop, webfetch]
    allowed_hosts: [127.0.0.1]
    env: [PATH, OXY_VISIBLE]
    timeout: 5
permissions:
{permissions}
"""

PERMISSIONS = """\
  allow: ["read(**)", "glob", "grep", "edit(**)", "bash(*pytest*)", "bash(env*)", "task_start", "webfetch(*)"]
  ask: ["write(src/**)"]
  deny: ["read(**/.env)", "bash(rm -rf *)", "write(secrets/**)"]
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    (root / "agents").mkdir(parents=True)
    (root / "config.yml").write_text(
        "models:\n  - name: m\n    vendor: vllm\n    model_ref: m\n    api_url: http://127.0.0.1:9/v1\n"
    )
    workspace = root / "workspace"
    workspace.mkdir()
    (workspace / "calc.py").write_text(CALC)
    (workspace / "test_calc.py").write_text(TEST_CALC)
    (workspace / ".env").write_text("TOKEN=secret\n")
    (tmp_path / "outside.txt").write_text("outside the workspace\n")
    write_agent(root, PERMISSIONS)
    return root


def write_agent(root: Path, permissions: str) -> None:
    (root / "agents" / "coder.agent.yml").write_text(AGENT.format(permissions=permissions))


def run_calls(
    project: Path,
    calls: Sequence[tuple[str, dict[str, Any]]],
    *,
    channel: InputChannel | None = None,
    thread: str | None = None,
) -> tuple[list[ToolResultEvent], list[Event]]:
    """One run whose model makes `calls` one turn each, then answers; the tool results, every event."""
    script = [Reply(tool_calls=[tool_call(name, args, id=f"c{i}")]) for i, (name, args) in enumerate(calls)]
    model = ScriptedModel([*script, Reply(text="done")], name="m")
    runtime = Runtime.for_project(load_project(project), models={"m": model})
    sink = ListSink()

    async def main() -> Any:
        from oxy.execution.context import Caller

        async with runtime:
            return await run_file(
                project / "agents/coder.agent.yml",
                runtime=runtime,
                prompt="Fix the failing test.",
                sink=sink,
                input_channel=channel,
                caller=Caller(thread_id=thread),
            )

    result = anyio.run(main)
    assert result.status == "ok", result.error
    results = [e for e in sink.events if isinstance(e, ToolResultEvent)]
    return results, list(sink.events)


def test_the_agent_reads_edits_and_runs_the_tests(project: Path) -> None:
    pytest_command = f"{sys.executable} -m pytest -q -p no:cacheprovider test_calc.py"
    results, _ = run_calls(
        project,
        [
            ("glob", {"pattern": "**/*.py"}),
            ("read", {"path": "calc.py"}),
            ("edit", {"path": "calc.py", "old_string": "a - b", "new_string": "a + b"}),
            ("bash", {"command": pytest_command}),
        ],
    )
    assert [(r.name, r.is_error) for r in results] == [
        ("glob", False),
        ("read", False),
        ("edit", False),
        ("bash", False),
    ]
    assert results[0].content == "calc.py\ntest_calc.py"
    assert results[1].content == "     1\tdef add(a, b):\n     2\t    return a - b"
    assert results[2].content == "Edited calc.py at line 2."
    assert "1 passed" in results[3].content and results[3].content.endswith("[exit code 0]")
    assert (project / "workspace" / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"


def test_denied_and_unanswerable_calls_come_back_as_tool_errors(project: Path) -> None:
    results, _ = run_calls(
        project,
        [
            ("write", {"path": "secrets/key.txt", "content": "x"}),
            ("read", {"path": ".env"}),
            ("bash", {"command": "echo hi && rm -rf /tmp/nothing-here"}),
            ("write", {"path": "src/new.py", "content": "x = 1\n"}),
            ("bash", {"command": "ls"}),
        ],
    )
    assert [r.is_error for r in results] == [True] * 5
    assert "rule deny: write(secrets/**)" in results[0].content
    assert "rule deny: read(**/.env)" in results[1].content
    assert "rule deny: bash(rm -rf *)" in results[2].content
    assert "rule ask: write(src/**)" in results[3].content and "--yes" in results[3].content
    assert "no permission rule matches it" in results[4].content
    assert not (project / "workspace" / "secrets").exists()
    assert not (project / "workspace" / "src").exists()


def test_paths_that_lead_out_of_the_workspace_are_refused(project: Path, tmp_path: Path) -> None:
    workspace = project / "workspace"
    (workspace / "link.txt").symlink_to(tmp_path / "outside.txt")
    (workspace / "linked_dir").symlink_to(tmp_path)
    results, _ = run_calls(
        project,
        [
            ("read", {"path": "../../outside.txt"}),
            ("read", {"path": str(tmp_path / "outside.txt")}),
            ("read", {"path": "link.txt"}),
            ("read", {"path": "linked_dir/outside.txt"}),
            ("edit", {"path": "link.txt", "old_string": "outside", "new_string": "inside"}),
            ("grep", {"pattern": "outside"}),
            ("glob", {"pattern": "**/*.txt"}),
        ],
    )
    assert [r.is_error for r in results] == [True, True, True, True, True, False, False]
    assert "outside the workspace" in results[0].content
    assert "absolute path" in results[1].content
    assert all("outside the workspace" in r.content for r in results[2:5])
    assert results[5].content == "No lines match 'outside'."  # links out are never searched
    assert results[6].content == "No files match '**/*.txt' under '.'."
    assert (tmp_path / "outside.txt").read_text() == "outside the workspace\n"


def test_yes_approves_what_would_be_asked_and_no_refuses_it(project: Path) -> None:
    call = ("write", {"path": "src/new.py", "content": "x = 1\n"})
    refused, events = run_calls(project, [call], channel=FixedInput(approve=False))
    assert refused[0].is_error and "refused by --no" in refused[0].content
    asked = [e for e in events if isinstance(e, InputRequested)]
    assert [(e.input_kind, e.tool, e.what, e.why, e.rule) for e in asked] == [
        ("permission", "write", "write src/new.py (6 characters)", "rule ask: write(src/**)", "write(src/**)")
    ]
    approved, _ = run_calls(project, [call], channel=FixedInput(approve=True))
    assert approved[0].content == "Created src/new.py (1 lines)."
    assert (project / "workspace" / "src" / "new.py").read_text() == "x = 1\n"


class Person(InputChannel):
    """Answers from a list, remembering what it was asked."""

    def __init__(self, answers: list[InputAnswer]) -> None:
        self.answers = answers
        self.asked: list[InputRequest] = []
        self.grants: set[str] = set()

    async def wait(self, ctx: ExecutionContext, request: InputRequest) -> InputAnswer:
        self.asked.append(request)
        answer = self.answers.pop(0)
        if answer.always:
            self.grants.add(f"{request.tool}({request.subject})")
        return answer

    async def granted(self, ctx: ExecutionContext, key: str) -> bool:
        return key in self.grants


def test_always_approves_the_same_call_again_and_questions_get_answers(project: Path) -> None:
    person = Person([InputAnswer(approved=True, always=True), InputAnswer(approved=True, text="Use tabs")])
    results, events = run_calls(
        project,
        [
            ("bash", {"command": "echo one"}),
            ("bash", {"command": "echo one"}),
            ("question", {"question": "Tabs or spaces?", "options": ["Use tabs", "Use spaces"]}),
            ("todo", {"items": [{"content": "fix add", "status": "completed"}, {"content": "run tests"}]}),
        ],
        channel=person,
    )
    assert [r.content for r in results] == [
        "one\n[exit code 0]",
        "one\n[exit code 0]",
        "Use tabs",
        "[x] fix add\n[ ] run tests",
    ]
    assert [(r.kind, r.what) for r in person.asked] == [
        ("permission", "run `echo one`"),
        ("question", "Tabs or spaces?"),
    ]
    answered = [e for e in events if isinstance(e, InputAnswered)]
    assert [(e.approved, e.always, e.text) for e in answered] == [
        (True, True, None),
        (True, False, "Use tabs"),
    ]


def test_bash_sees_only_the_listed_variables_and_is_stopped_at_its_timeout(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OXY_VISIBLE", "yes")
    monkeypatch.setenv("OXY_HIDDEN", "no")
    results, _ = run_calls(
        project,
        [("bash", {"command": "env"}), ("bash", {"command": "env; sleep 30", "timeout": 1})],
        channel=FixedInput(approve=True),
    )
    names = {line.split("=", 1)[0] for line in results[0].content.splitlines() if "=" in line}
    assert names - {"PWD", "SHLVL", "_"} == {"PATH", "OXY_VISIBLE"}
    assert results[1].content.endswith("[timed out after 1 s; the command was stopped]")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_dev_server_runs_as_a_task_is_read_and_stopped(project: Path) -> None:
    server = f"PYTHONUNBUFFERED=1 {sys.executable} -m http.server 0 --bind 127.0.0.1"
    slow = [Reply(tool_calls=[tool_call("task_start", {"command": server}, id="s")])]
    model = ScriptedModel(
        [
            *slow,
            Reply(
                tool_calls=[tool_call("bash", {"command": f"{sys.executable} -m pytest --version"}, id="w")]
            ),
            Reply(tool_calls=[tool_call("task_output", {"id": "t1", "lines": 5}, id="o")]),
            Reply(tool_calls=[tool_call("task_stop", {"id": "t1"}, id="x")]),
            Reply(text="done"),
        ],
        name="m",
    )
    runtime = Runtime.for_project(load_project(project), models={"m": model})
    sink = ListSink()

    async def main() -> None:
        async with runtime:
            result = await run_file(
                project / "agents/coder.agent.yml", runtime=runtime, prompt="Serve it.", sink=sink
            )
            assert result.status == "ok", result.error

    anyio.run(main)
    results = {e.name: e.content for e in sink.events if isinstance(e, ToolResultEvent)}
    pid = int(results["task_start"].split("pid ")[1].split(")")[0])
    assert results["task_start"].startswith("Started task t1 (pid ")
    assert "is running" in results["task_output"] and "Serving HTTP on 127.0.0.1" in results["task_output"]
    assert results["task_stop"].startswith("Stopped task t1")
    assert not _alive(pid)
    listed = CliRunner().invoke(cli, ["tasks", "list", "--all", "--project", str(project)])
    assert listed.exit_code == 0, listed.output
    assert listed.output.startswith("t1\tstopped (exit ")
    assert server in listed.output


def test_tasks_left_running_end_with_the_runtime(project: Path) -> None:
    write_agent(project, '  allow: ["task_start"]\n')
    results, _ = run_calls(project, [("task_start", {"command": "sleep 60"})])
    pid = int(results[0].content.split("pid ")[1].split(")")[0])
    assert not _alive(pid)
    listed = CliRunner().invoke(cli, ["tasks", "list", "--project", str(project)])
    assert listed.exit_code == 0 and listed.stdout == ""


@pytest.fixture
def web() -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/away":
                self.send_response(302)
                self.send_header("Location", "http://example.invalid/x")
                self.end_headers()
                return
            body = b"<html><head><style>x{}</style></head><body><h1>Docs</h1><p>Use <a href='/a'>add</a>.</p><script>evil()</script></body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_webfetch_reads_allowed_hosts_as_text_only(project: Path, web: str) -> None:
    results, _ = run_calls(
        project,
        [
            ("webfetch", {"url": f"{web}/docs"}),
            ("webfetch", {"url": "http://localhost:9/"}),
            ("webfetch", {"url": f"{web}/away"}),
        ],
    )
    assert results[0].content == f"{web}/docs\n\n# Docs\n\nUse [add](/a)."
    assert results[1].is_error and "'localhost' is not an allowed host" in results[1].content
    assert results[2].is_error and "'example.invalid' is not an allowed host" in results[2].content


def test_edit_refuses_ambiguous_matches_and_grep_finds_lines(project: Path) -> None:
    (project / "workspace" / "twice.py").write_text("x = 1\nx = 1\n")
    results, _ = run_calls(
        project,
        [
            ("edit", {"path": "twice.py", "old_string": "x = 1", "new_string": "x = 2"}),
            ("edit", {"path": "twice.py", "old_string": "x = 1", "new_string": "x = 2", "replace_all": True}),
            ("grep", {"pattern": r"def \w+", "glob": "*.py"}),
        ],
    )
    assert results[0].is_error and "occurs 2 times" in results[0].content
    assert results[1].content == "Edited twice.py at 2 places."
    assert results[2].content == "calc.py:1:def add(a, b):\ntest_calc.py:4:def test_add():"


def test_every_output_is_capped_with_the_cut_marked(project: Path) -> None:
    (project / "agents" / "coder.agent.yml").write_text(
        AGENT.format(permissions=PERMISSIONS).replace("timeout: 5", "timeout: 5\n    max_output_chars: 1000")
    )
    (project / "workspace" / "big.txt").write_text("".join(f"line {i}\n" for i in range(5000)))
    results, _ = run_calls(project, [("read", {"path": "big.txt"})])
    content = results[0].content
    assert len(content) < 1100 and "characters cut …]" in content
    assert content.startswith("     1\tline 0") and content.endswith("offset=2001]")


def test_validate_names_bad_rules_and_tool_names(project: Path) -> None:
    (project / "agents" / "coder.agent.yml").write_text(
        "model: m\nsystem_instructions: x\ntools:\n  - type: workspace\n    tools: [read, run]\n"
        "    root: ../elsewhere\npermissions:\n  allow: ['read(**)', 'bash(ls', 'todo(x)']\n"
    )
    result = CliRunner().invoke(cli, ["validate", "--project", str(project)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert any("coder.agent.yml:5:" in line and "'run'" in line for line in lines), result.output
    assert any("coder.agent.yml:8:" in line and "'bash(ls' is not a rule" in line for line in lines)
    assert any("'todo(x)': todo takes no pattern" in line for line in lines)
    assert any("root '../elsewhere' must be a folder inside the project" in line for line in lines)


def test_the_workspace_must_exist(project: Path) -> None:
    (project / "agents" / "coder.agent.yml").write_text(
        AGENT.format(permissions=PERMISSIONS).replace("type: workspace", "type: workspace\n    root: missing")
    )
    model = ScriptedModel([Reply(text="x")], name="m")
    runtime = Runtime.for_project(load_project(project), models={"m": model})
    result = anyio.run(lambda: run_file(project / "agents/coder.agent.yml", runtime=runtime, prompt="x"))
    runtime.close()
    assert result.error is not None and "workspace folder 'missing' does not exist" in str(result.error)
    assert json.dumps(str(result.error)).count("\\n") == 0


def test_validate_warns_about_rules_that_cannot_apply(project: Path) -> None:
    (project / "agents" / "coder.agent.yml").write_text(
        "model: m\nsystem_instructions: x\ntools:\n  - type: workspace\n    tools: [read, bash]\n"
        "permissions:\n  allow: ['read(**)', 'bash(ls*)', 'lsp']\n  ask: ['bash(*)']\n"
    )
    (project / "agents" / "plain.agent.yml").write_text(
        "model: m\nsystem_instructions: x\npermissions:\n  allow: ['read(**)']\n"
    )
    result = CliRunner().invoke(cli, ["validate", "--project", str(project)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[:3] == [
        "agents/coder.agent.yml:7:23: warning: allow rule 'bash(ls*)' never applies: ask: bash(*) matches "
        "every bash call, and ask and deny beat allow; remove it there (a call no rule matches is asked anyway)",
        "agents/coder.agent.yml:7:36: warning: rule 'lsp' names 'lsp', which the agent's workspace tools do "
        "not offer",
        "agents/plain.agent.yml:4:3: warning: permissions apply to workspace tools, and this agent has none",
    ]


def test_files_denied_to_read_are_left_out_of_glob_and_grep(project: Path) -> None:
    write_agent(project, '  allow: ["read(**)", "glob", "grep"]\n  deny: ["read(secrets/**)"]\n')
    (project / "workspace" / "secrets").mkdir()
    (project / "workspace" / "secrets" / "key.py").write_text("def add(): 'hunter2'\n")
    (project / "workspace" / "leak.py").symlink_to(project / "workspace" / "secrets" / "key.py")
    results, _ = run_calls(
        project,
        [
            ("grep", {"pattern": "def add|hunter2"}),
            ("glob", {"pattern": "**/*.py"}),
            ("read", {"path": "leak.py"}),
        ],
    )
    assert results[0].content == "calc.py:1:def add(a, b):"
    assert results[1].content == "calc.py\ntest_calc.py"
    assert results[2].is_error and "rule deny: read(secrets/**)" in results[2].content


def test_what_the_file_system_refuses_is_a_tool_error(project: Path) -> None:
    (project / "workspace" / "latin1.txt").write_bytes("caf\xe9 = 1\n".encode("latin-1"))
    (project / "workspace" / "abab.txt").write_text("ababab\n")
    results, _ = run_calls(
        project,
        [
            ("write", {"path": "calc.py/inside.txt", "content": "x"}),
            ("write", {"path": "x" * 300, "content": "x"}),
            ("write", {"path": "bad.txt", "content": "\ud800"}),
            ("edit", {"path": "latin1.txt", "old_string": "= 1", "new_string": "= 2"}),
            ("edit", {"path": "abab.txt", "old_string": "abab", "new_string": "x"}),
            ("webfetch", {"url": "http://127.0.0.1:9/"}),
        ],
        channel=FixedInput(approve=True),
    )
    assert [r.is_error for r in results] == [True] * 6
    assert results[0].content.startswith("Error: write failed: ")
    assert "File name too long" in results[1].content
    assert "cannot be written as UTF-8" in results[2].content
    assert "is not UTF-8 text" in results[3].content
    assert (project / "workspace" / "latin1.txt").read_bytes() == "caf\xe9 = 1\n".encode("latin-1")
    assert "occurs 2 times" in results[4].content  # overlapping matches count
    assert results[5].content.startswith("Error: webfetch failed: ConnectError")
    assert not (project / "workspace" / "bad.txt").exists()


def test_a_link_swapped_in_while_a_call_waits_for_approval_is_refused(project: Path, tmp_path: Path) -> None:
    workspace = project / "workspace"
    (workspace / "notes.txt").write_text("mine\n")

    class SwapWhileAsking(InputChannel):
        async def wait(self, ctx: ExecutionContext, request: InputRequest) -> InputAnswer:
            (workspace / "notes.txt").unlink()
            (workspace / "notes.txt").symlink_to(tmp_path / "outside.txt")
            return InputAnswer(approved=True)

    write_agent(project, '  ask: ["write(**)"]\n')
    results, _ = run_calls(
        project, [("write", {"path": "notes.txt", "content": "overwritten"})], channel=SwapWhileAsking()
    )
    assert results[0].is_error and "changed while the call waited" in results[0].content
    assert (tmp_path / "outside.txt").read_text() == "outside the workspace\n"


def test_validate_warns_about_a_root_that_holds_the_project(project: Path) -> None:
    (project / "agents" / "coder.agent.yml").write_text(
        "model: m\nsystem_instructions: x\ntools:\n  - type: workspace\n    root: .\n    tools: [read]\n"
        "permissions:\n  allow: ['read(**)']\n"
    )
    result = CliRunner().invoke(cli, ["validate", "--project", str(project)])
    assert result.exit_code == 0
    assert "coder.agent.yml:5:11: warning: root '.' holds the project itself" in result.output


def test_long_lines_and_long_commands_are_bounded(project: Path) -> None:
    (project / "workspace" / "minified.js").write_text("x" * 1_000_000 + "\nsecond\n")
    results, _ = run_calls(
        project,
        [("read", {"path": "minified.js"}), ("bash", {"command": "echo " + "a" * 20_000})],
        channel=FixedInput(approve=True),
    )
    first, second = results[0].content.splitlines()
    assert first == "     1\t" + "x" * 2000 + " [… 998,000 characters cut]"
    assert second == "     2\tsecond"
    assert results[1].is_error and "write a script file" in results[1].content


def test_files_the_rules_ask_about_are_not_shown_by_grep(project: Path) -> None:
    write_agent(project, '  allow: ["grep", "read(**)"]\n  ask: ["read(**/*.key)"]\n')
    (project / "workspace" / "server.key").write_text("def add(): secret\n")
    results, _ = run_calls(project, [("grep", {"pattern": "def add"})])
    assert results[0].content == "calc.py:1:def add(a, b):"
