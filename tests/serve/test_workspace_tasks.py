"""Background tasks in `oxy serve`: a thread's task lives between its runs, is listed per thread,
stops when the thread is closed, and the server's shutdown stops the rest (checked by PID)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from oxy.serve import create_app
from oxy.testing import Reply, ScriptedModelServer, tool_call

from .conftest import open_client, settings_for

pytestmark = pytest.mark.anyio

RUNNER = """\
description: Runs things.
model: scripted
system_instructions: You run things.
tools:
  - type: workspace
    tools: [task_start, task_output]
permissions:
  allow: ["task_start(sleep *)"]
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:  # gone between the two looks
        return False


async def test_a_thread_s_tasks_live_between_runs_and_stop_when_it_closes(
    project: Path, model: ScriptedModelServer
) -> None:
    (project / "agents" / "runner.agent.yml").write_text(RUNNER)
    (project / "workspace").mkdir()
    model.set_script(
        [
            Reply(tool_calls=[tool_call("task_start", {"command": "sleep 60"}, id="1")]),
            Reply(text="Started."),
            Reply(tool_calls=[tool_call("task_output", {"id": "t1"}, id="2")]),
            Reply(text="Running."),
            Reply(tool_calls=[tool_call("task_start", {"command": "sleep 61"}, id="3")]),
            Reply(text="Another."),
        ]
    )
    async for client in open_client(create_app(settings_for(project))):
        first = (
            await client.post("/api/agents/runner/runs", json={"prompt": "Start", "stream": False})
        ).json()
        thread = first["thread_id"]
        body = {"prompt": "Still?", "stream": False, "thread_id": thread}
        assert (await client.post("/api/agents/runner/runs", json=body)).json()["output"] == "Running."
        assert "is running" in model.requests[3].messages[-1].content
        tasks = (await client.get(f"/api/threads/{thread}/tasks")).json()
        assert [(t["task_id"], t["command"], t["stopped_at"]) for t in tasks] == [("t1", "sleep 60", None)]
        pid = tasks[0]["pid"]
        assert _alive(pid)
        closed = (await client.post(f"/api/threads/{thread}/close")).json()
        assert closed[0]["stopped_at"] is not None and not _alive(pid)
        assert (await client.get("/api/threads/nope/tasks")).status_code == 404
        other = (
            await client.post("/api/agents/runner/runs", json={"prompt": "More", "stream": False})
        ).json()
        left = (await client.get(f"/api/threads/{other['thread_id']}/tasks")).json()[0]["pid"]
        assert _alive(left)
    assert not _alive(left)  # the server's shutdown stopped it
