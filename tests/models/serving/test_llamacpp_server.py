"""The real llama.cpp server (llama-cpp-python's) with the shipped SmolLM2, on CPU: started, healthy,
an agent answers through it, kill -9 and restart, a clean stop with no process left, and a model file
llama.cpp cannot load explained from its log."""

from __future__ import annotations

import importlib.util
import os
import signal
from pathlib import Path

import anyio
import pytest

from oxy import Runtime, load_project, run_file
from oxy.config.models import VLLMModelConfig
from oxy.models.local import shipped_model_path
from oxy.models.serving import ModelServer, ModelServerError, endpoint_status, plan_for
from tests.mcp_servers import free_port
from tests.models.serving.test_model_server import alive

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None
        or importlib.util.find_spec("starlette_context") is None
        or shipped_model_path() is None,
        reason="needs llama-cpp-python[server] and the shipped SmolLM2 (make install brings both)",
    ),
]


def smollm2(port: int, model_ref: str = "smollm2") -> VLLMModelConfig:
    return VLLMModelConfig.model_validate(
        {
            "name": "small",
            "vendor": "vllm",
            "model_ref": model_ref,
            "api_url": f"http://127.0.0.1:{port}/v1",
            # A small context bounds an answer (the server has no max_tokens of its own).
            "serve": {"engine": "llamacpp", "args": {"n_ctx": 512}, "startup_timeout": 120},
        }
    )


async def test_smollm2_served_by_llamacpp(tmp_path: Path) -> None:
    port = free_port()
    cfg = smollm2(port)
    project = tmp_path / "p"
    (project / "agents").mkdir(parents=True)
    (project / "config.yml").write_text(
        f"models:\n  - name: small\n    vendor: vllm\n    model_ref: smollm2\n    api_url: http://127.0.0.1:{port}/v1\n"
    )
    (project / "agents" / "a.agent.yml").write_text(
        "model: small\nsystem_instructions: Answer in one sentence.\n"
    )
    async with ModelServer(plan_for(cfg, project_root=tmp_path)) as server:
        status = await endpoint_status(cfg)
        assert status.reachable and status.served == ["smollm2"]

        runtime = Runtime.for_project(load_project(project))
        result = await run_file(project / "agents" / "a.agent.yml", runtime=runtime, prompt="What is 2 + 2?")
        assert result.status == "ok", result.error
        assert isinstance(result.output, str) and result.output.strip()

        first = server.pid
        assert first is not None
        os.killpg(first, signal.SIGKILL)
        with anyio.fail_after(60):
            while server.pid == first or server.state != "ready":
                await anyio.sleep(0.2)
        again = await run_file(project / "agents" / "a.agent.yml", runtime=runtime, prompt="Say hello.")
        runtime.close()
        assert again.status == "ok", again.error
        second = server.pid
    assert second is not None and not alive(second) and not alive(first)


async def test_a_file_llamacpp_cannot_load_is_explained(tmp_path: Path) -> None:
    (tmp_path / "broken.gguf").write_bytes(b"GGUF" + os.urandom(64))
    cfg = smollm2(free_port(), model_ref="broken.gguf")
    with pytest.raises(ModelServerError) as failed:
        async with ModelServer(plan_for(cfg, project_root=tmp_path)):
            pass
    message = str(failed.value)
    assert message.startswith("the llamacpp server of model 'small' (")
    assert "could not load the model file" in message or "exited with status" in message, message
