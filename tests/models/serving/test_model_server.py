"""`ModelServer` supervises a `vllm serve` (here the stand-in `fake_vllm.py`): ready only once `/health`
and `/v1/models` answer, an agent runs through it, a killed server is started again, stopping leaves no
process, and a failed start is explained in one line from the server's log."""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from oxy import Runtime, load_project, run_file
from oxy.config.models import VLLMModelConfig
from oxy.models.serving import ModelFleet, ModelServer, ModelServerError, plan_for
from oxy.testing import Reply, ScriptedModelServer
from tests.mcp_servers import free_port

pytestmark = pytest.mark.anyio

FAKE_VLLM = Path(__file__).with_name("fake_vllm.py")


@pytest.fixture
def upstream() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer() as server:
        yield server


def served_model(port: int, tmp_path: Path, *, mode: str = "ok", **serve: Any) -> VLLMModelConfig:
    env = {"FAKE_VLLM_MODE": mode, "FAKE_VLLM_ARGV": str(tmp_path / "argv.json"), **serve.pop("env", {})}
    return VLLMModelConfig.model_validate(
        {
            "name": "qwen",
            "vendor": "vllm",
            "model_ref": "Qwen/Qwen2.5-7B-Instruct",
            "api_url": f"http://127.0.0.1:{port}/v1",
            "serve": {"command": [sys.executable, str(FAKE_VLLM)], "env": env, **serve},
        }
    )


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


async def test_ready_answers_and_stops_with_nothing_left(
    tmp_path: Path, upstream: ScriptedModelServer
) -> None:
    port = free_port()
    cfg = served_model(port, tmp_path, env={"FAKE_VLLM_UPSTREAM": upstream.base_url})
    lines: list[str] = []
    async with ModelServer(plan_for(cfg, project_root=tmp_path), on_line=lines.append) as server:
        assert server.state == "ready"
        pid = server.pid
        assert pid is not None and alive(pid)
        argv = json.loads((tmp_path / "argv.json").read_text())
        assert argv[argv.index("--tool-call-parser") + 1] == "hermes" and "--enable-auto-tool-choice" in argv
        assert any(line.startswith("[qwen] INFO") and "vLLM API server" in line for line in lines)

        project = tmp_path / "p"
        (project / "agents").mkdir(parents=True)
        (project / "config.yml").write_text(
            f"models:\n  - name: qwen\n    vendor: vllm\n    model_ref: Qwen/Qwen2.5-7B-Instruct\n"
            f"    api_url: http://127.0.0.1:{port}/v1\n"
        )
        (project / "agents" / "a.agent.yml").write_text("model: qwen\nsystem_instructions: Be brief.\n")
        upstream.set_script([Reply(text="Served by the fake vLLM.")])
        runtime = Runtime.for_project(load_project(project))
        result = await run_file(project / "agents" / "a.agent.yml", runtime=runtime, prompt="hi")
        runtime.close()
        assert result.output == "Served by the fake vLLM."
    assert server.state == "stopped"
    assert not alive(pid)


async def test_a_killed_server_is_started_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    cfg = served_model(port, tmp_path)
    async with ModelServer(plan_for(cfg, project_root=tmp_path)) as server:
        first = server.pid
        assert first is not None
        os.killpg(first, signal.SIGKILL)  # kill -9 of the server and anything it started
        with anyio.fail_after(20):
            while server.pid == first or server.state != "ready":
                await anyio.sleep(0.1)
        assert server.restarts == 1 and alive(server.pid or 0)
        second = server.pid
    assert second is not None and not alive(second)


async def test_restarts_are_bounded(tmp_path: Path) -> None:
    cfg = served_model(free_port(), tmp_path, mode="die:2", max_restarts=1, env={"FAKE_VLLM_DELAY": "0.1"})
    async with ModelServer(plan_for(cfg, project_root=tmp_path)) as server:
        with anyio.fail_after(20):
            while server.state != "failed":
                await anyio.sleep(0.1)
        assert server.restarts == 1
        assert (
            server.error is not None
            and "exited with status 9" in server.error
            and "gave up after 1" in server.error
        )


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("oom", "ran out of GPU memory: lower serve.args.gpu_memory_utilization or max_model_len"),
        ("port", "could not listen: port {port} is taken by another process"),
        ("offline", "found no weights for 'Qwen/Qwen2.5-7B-Instruct' in the local cache"),
        ("unknown", "does not know the model 'Qwen/Qwen2.5-7B-Instruct'"),
    ],
)
async def test_a_failed_start_is_explained_from_the_log(tmp_path: Path, mode: str, expected: str) -> None:
    port = free_port()
    cfg = served_model(port, tmp_path, mode=mode)
    with pytest.raises(ModelServerError) as failed:
        async with ModelServer(plan_for(cfg, project_root=tmp_path)):
            pass
    message = str(failed.value)
    assert "\n" not in message
    assert message.startswith(f"the vllm server of model 'qwen' (http://127.0.0.1:{port}/v1) ")
    assert expected.format(port=port) in message


async def test_a_missing_program_and_a_server_too_slow_to_start(tmp_path: Path) -> None:
    missing = served_model(free_port(), tmp_path, command=["no-such-vllm-here"])
    with pytest.raises(
        ModelServerError, match=r"'no-such-vllm-here' was not found \(install it, or set serve.command\)"
    ):
        async with ModelServer(plan_for(missing, project_root=tmp_path)):
            pass
    slow = served_model(free_port(), tmp_path, startup_timeout=1, env={"FAKE_VLLM_DELAY": "30"})
    with pytest.raises(
        ModelServerError, match=r"was not ready after 1 s \(startup_timeout\); its last words: INFO"
    ):
        async with ModelServer(plan_for(slow, project_root=tmp_path)):
            pass


async def test_a_fleet_reuses_a_model_already_served(tmp_path: Path, upstream: ScriptedModelServer) -> None:
    port = free_port()
    cfg = served_model(port, tmp_path, env={"FAKE_VLLM_UPSTREAM": upstream.base_url})
    async with ModelFleet([cfg], project_root=tmp_path) as first:
        assert list(first.servers) == ["qwen"] and first.problems() == []
        async with ModelFleet(
            [cfg], project_root=tmp_path
        ) as second:  # the endpoint answers: not started again
            assert second.servers == {} and second.reused == ["qwen"]


async def test_a_fleet_says_which_model_is_not_ready(tmp_path: Path) -> None:
    cfg = served_model(free_port(), tmp_path, mode="die:2", max_restarts=0, env={"FAKE_VLLM_DELAY": "0.1"})
    async with ModelFleet([cfg], project_root=tmp_path) as fleet:
        assert fleet.problems() == []
        with anyio.fail_after(10):
            while not fleet.problems():
                await anyio.sleep(0.1)
        (problem,) = fleet.problems()
        assert problem.startswith("model 'qwen': failed (the vllm server of model 'qwen'")
        assert "exited with status 9" in problem


async def test_another_server_on_the_port_is_not_taken_for_ours(tmp_path: Path) -> None:
    port = free_port()
    other = served_model(port, tmp_path / "other", env={"FAKE_VLLM_ARGV": ""})
    other = other.model_copy(update={"model_ref": "someone/qwen2.5-other"})
    async with ModelServer(plan_for(other, project_root=tmp_path)):
        ours = served_model(port, tmp_path, startup_timeout=20)
        with pytest.raises(
            ModelServerError, match=rf"could not listen: port {port} is taken by another process"
        ):
            async with ModelServer(plan_for(ours, project_root=tmp_path)):
                pass
