"""`loop_sequential` runs at most `concurrency` iterations at once and keeps outputs in input order."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from oxy.events.types import Event, StepFinished, StepStarted
from oxy.testing import Reply, ScriptedModelServer, ScriptedRequest
from tests.workflows.conftest import run, write


def most_at_once(events: list[Event]) -> int:
    running = peak = 0
    for event in events:
        if isinstance(event, StepStarted) and event.step_type == "loop_iteration":
            running += 1
            peak = max(peak, running)
        elif isinstance(event, StepFinished) and len(event.source) == 3 and event.source[1] == "each":
            running -= 1
    return peak


@pytest.mark.parametrize("limit", [1, 2, 4])
def test_concurrency_bound_and_input_order(project: Path, server: ScriptedModelServer, limit: int) -> None:
    def script(request: ScriptedRequest) -> Reply:
        n = int(re.findall(r"\d+", request.messages[-1].content)[0])
        return Reply(text=f"done {n}", delay=0.05 * (6 - n))  # the first items answer last

    server.set_script(script)
    path = write(
        project,
        "loop.workflow.yml",
        f"""\
        tasks:
          - name: each
            type: loop_sequential
            values: [1, 2, 3, 4, 5]
            concurrency: {limit}
            tasks:
              - name: answer
                type: agent
                agent_ref: agents/writer.agent.yml
                prompt: "item {{{{ each.value }}}}"
        """,
    )
    done = run(project, path)
    assert [item["answer"] for item in done.output["each"]] == [f"done {n}" for n in range(1, 6)]
    assert most_at_once(done.events) == limit
