"""docs/models.md: its config validates and every command it shows runs, with `vllm serve` played by the
stand-in (tests/models/serving/fake_vllm.py) and the llama.cpp model served for real."""

from __future__ import annotations

import importlib.util
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

from oxy.models.local import shipped_model_path
from oxy.testing import Reply, ScriptedModelServer
from tests.cli.test_models import none_left, readline_within
from tests.mcp_servers import free_port, http_server

REPO = Path(__file__).resolve().parents[1]
DOC = (REPO / "docs" / "models.md").read_text()
FAKE_VLLM = REPO / "tests" / "models" / "serving" / "fake_vllm.py"
OXY = str(Path(sys.executable).with_name("oxy"))
LONG_RUNNING = ("oxy models serve", "oxy serve --with-models")

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("starlette_context") is None or shipped_model_path() is None,
    reason="needs llama-cpp-python[server] and the shipped SmolLM2 (make install brings both)",
)


def commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", DOC, flags=re.DOTALL)
    return [line for block in blocks for line in block.splitlines() if line.strip()]


def test_every_documented_command_runs(tmp_path: Path) -> None:
    documented = yaml.safe_load(re.findall(r"```yaml\n(.*?)```", DOC, flags=re.DOTALL)[0])
    root = tmp_path / "shop"
    shutil.copytree(REPO / "projects" / "quickstart", root, ignore=shutil.ignore_patterns(".oxy", "output"))
    ports = {"8000": str(free_port()), "8001": str(free_port())}
    with ScriptedModelServer([Reply(text="There are 240 orders.")] * 5) as upstream:
        qwen, small = documented["models"]
        qwen["serve"]["command"] = [sys.executable, str(FAKE_VLLM)]
        qwen["serve"]["env"].update({"FAKE_VLLM_UPSTREAM": upstream.base_url, "FAKE_VLLM_DELAY": "0.2"})
        for model in (qwen, small):
            for documented_port, free in ports.items():
                model["api_url"] = model["api_url"].replace(documented_port, free)
        config = yaml.safe_load((root / "config.yml").read_text())
        config["models"] = [qwen, small]
        config["defaults"]["agent"] = "agents/analyst.agent.yml"
        (root / "config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
        agent = (root / "agents" / "analyst.agent.yml").read_text()
        (root / "agents" / "analyst.agent.yml").write_text(agent.replace("model: smollm2", "model: qwen"))
        assert subprocess.run([OXY, "validate"], cwd=root, capture_output=True, text=True).returncode == 0

        listed = commands()
        assert len(listed) == 5
        for command in listed:
            args = [OXY if a == "oxy" else a for a in shlex.split(command)]
            if command.startswith("oxy models serve"):
                # The servers' own lines go to stdout (llama.cpp's are many): a file, not a pipe no one reads.
                with open(tmp_path / "serve.log", "w") as log:
                    proc = subprocess.Popen(args, cwd=root, stdout=log, stderr=subprocess.PIPE, text=True)
                    try:
                        assert proc.stderr is not None
                        expected = 1 if command.endswith("qwen") else 2
                        ready = [readline_within(proc.stderr, 120) for _ in range(expected)]
                        assert all(" ready at http://127.0.0.1:" in line for line in ready), ready
                        proc.send_signal(signal.SIGINT)
                        proc.communicate(timeout=30)
                    finally:
                        if proc.poll() is None:
                            proc.send_signal(signal.SIGINT)  # it stops its servers, then itself
                            proc.wait(timeout=30)
                assert proc.returncode == 0
                assert "[qwen] INFO" in (tmp_path / "serve.log").read_text()
            elif command.startswith("oxy serve --with-models"):
                port = free_port()
                with http_server([*args, "--port", str(port)], port, cwd=root, timeout=120):
                    deadline = time.monotonic() + 120
                    while httpx.get(f"http://127.0.0.1:{port}/ready").status_code != 200:
                        assert time.monotonic() < deadline, httpx.get(
                            f"http://127.0.0.1:{port}/health"
                        ).json()
                        time.sleep(0.3)
                    health = httpx.get(f"http://127.0.0.1:{port}/health").json()
                    assert {name: m["state"] for name, m in health["models"].items()} == {
                        "qwen": "ready",
                        "small": "ready",
                    }
            elif command == "oxy models status":
                done = subprocess.run(args, cwd=root, capture_output=True, text=True, timeout=30)
                assert done.returncode == 1  # nothing serves the models now
                assert "no (nothing listens there)" in done.stdout
            else:
                done = subprocess.run(args, cwd=root, capture_output=True, text=True, timeout=120)
                assert done.returncode == 0, done.stderr
                assert "There are 240 orders." in done.stdout
            assert none_left(upstream)
    assert not any(LONG_RUNNING[0] in c and "&" in c for c in listed)


def test_the_documented_local_model_entry_is_valid_config() -> None:
    from pydantic import TypeAdapter

    from oxy.config.models import LocalModelConfig, ModelConfig

    blocks = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", DOC, flags=re.DOTALL)]
    (entry,) = [m for b in blocks for m in b.get("models", []) if m.get("vendor") == "local"]
    parsed = TypeAdapter(ModelConfig).validate_python(entry)
    assert isinstance(parsed, LocalModelConfig) and parsed.max_tokens == 256
