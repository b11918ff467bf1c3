"""A process SIGKILLed mid-run: what it committed survives, and its run reads as interrupted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from oxy.events.types import RunStarted, StepFinished, StepStarted, TextDelta
from oxy.storage import Store

SCRIPT = Path(__file__).with_name("killed_run.py")

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")


def test_a_killed_run_keeps_its_committed_events_and_is_marked_interrupted(store_url: str) -> None:
    with subprocess.Popen(
        [sys.executable, str(SCRIPT), store_url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as child:
        assert child.stdout is not None and child.stderr is not None
        try:
            line = child.stdout.readline()
        finally:
            child.send_signal(signal.SIGKILL)  # `with` then reaps it, so its pid is gone
        assert line.startswith("ready "), child.stderr.read()
        run_id = line.split()[1]
    assert child.returncode == -signal.SIGKILL

    with Store.open(store_url) as store:
        run = store.get_run(run_id, tenant="local")
        assert run is not None
        assert (run.status, run.error) == (
            "interrupted",
            "The process running it stopped before the run finished.",
        )
        events = [e.event for e in store.events(run_id, tenant="local")]
        shapes = [(type(e).__name__, getattr(e, "name", None) or getattr(e, "text", None)) for e in events]
        assert shapes == [
            (RunStarted.__name__, None),
            (StepStarted.__name__, "load"),
            (StepFinished.__name__, "load"),
            (StepStarted.__name__, "summary"),
            (TextDelta.__name__, "one "),
            (TextDelta.__name__, "two "),
            (TextDelta.__name__, "three "),
        ]  # "four " and "five" were still held back for batching: the only loss
        assert {path: t.output for path, t in store.task_outputs(run_id, tenant="local").items()} == {
            "load": [1, 2, 3]
        }
        assert store.last_failed_run("report.workflow.yml", tenant="local") == run
