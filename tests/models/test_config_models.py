"""`models:` entries of config.yml: every vendor parses, unknown keys are rejected."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import TypeAdapter, ValidationError

from oxy.config.models import (
    AnthropicModelConfig,
    EnvVarHeader,
    LocalModelConfig,
    ModelConfig,
    OllamaModelConfig,
    OpenAIModelConfig,
    VLLMModelConfig,
)

ADAPTER: TypeAdapter[ModelConfig] = TypeAdapter(ModelConfig)
COMPAT = Path("/work/shared/oxy-compat")


def _corpus_configs() -> list[Path]:
    return sorted(COMPAT.glob("**/config.yml")) if COMPAT.exists() else []


@pytest.mark.parametrize("path", _corpus_configs(), ids=str)
def test_every_corpus_model_parses(path: Path) -> None:
    entries = (yaml.safe_load(path.read_text()) or {}).get("models") or []
    for entry in entries:
        ADAPTER.validate_python(entry)


def test_openai_headers_and_azure() -> None:
    cfg = ADAPTER.validate_python(
        {
            "name": "gpt",
            "vendor": "openai",
            "model_ref": "gpt-4o",
            "key_var": "OPENAI_API_KEY",
            "api_url": "https://example.azure.com",
            "azure_deployment_id": "dep",
            "azure_api_version": "2024-08-01-preview",
            "headers": {"X-Client": "oxy", "X-Secret": {"env_var": "SECRET"}},
            "max_concurrency": 8,
            "max_retries": 5,
            "timeout": 30,
        }
    )
    assert cfg == OpenAIModelConfig(
        name="gpt",
        vendor="openai",
        model_ref="gpt-4o",
        key_var="OPENAI_API_KEY",
        api_url="https://example.azure.com",
        azure_deployment_id="dep",
        azure_api_version="2024-08-01-preview",
        headers={"X-Client": "oxy", "X-Secret": EnvVarHeader(env_var="SECRET")},
        max_concurrency=8,
        max_retries=5,
        timeout=30.0,
    )


def test_oxy_vendors() -> None:
    vllm = ADAPTER.validate_python(
        {"name": "q", "vendor": "vllm", "model_ref": "Qwen/Qwen3-8B", "api_url": "http://gpu:8000/v1"}
    )
    assert isinstance(vllm, VLLMModelConfig) and vllm.key_var is None
    local = ADAPTER.validate_python({"name": "s", "vendor": "local", "model_ref": "smollm2", "n_ctx": 2048})
    assert isinstance(local, LocalModelConfig) and local.n_ctx == 2048
    ollama = ADAPTER.validate_python({"name": "o", "vendor": "ollama", "model_ref": "llama3.2"})
    assert isinstance(ollama, OllamaModelConfig)
    claude = ADAPTER.validate_python({"name": "c", "vendor": "anthropic", "model_ref": "claude-sonnet-4-6"})
    assert isinstance(claude, AnthropicModelConfig) and claude.key_var == "ANTHROPIC_API_KEY"
    lite = ADAPTER.validate_python({"name": "l", "vendor": "litellm", "model_ref": "mistral/mistral-large"})
    assert lite.vendor == "litellm"


@pytest.mark.parametrize(
    "entry",
    [
        {"name": "x", "vendor": "openai", "model_ref": "m", "key_vars": "K"},
        {"name": "x", "vendor": "nope", "model_ref": "m"},
        {"name": "x", "vendor": "vllm", "model_ref": "m"},
        {"name": "x", "vendor": "local", "model_ref": "m", "max_concurrency": 0},
    ],
)
def test_rejects_bad_entries(entry: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ADAPTER.validate_python(entry)
