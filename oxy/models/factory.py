"""`client_for(cfg)`: the client for one `models:` entry, built once per process.

Clients are built by vendor: `@model_vendor("vllm", ...)` registers a builder, and `client_for` looks
the config's `vendor` up (other packages register theirs through the `oxy.models` entry-point group).
The built-in builders live here rather than beside their clients so that registering them imports no
SDK: each imports its client module (openai, litellm, llama.cpp) only when a config needs it.

Secrets are read from the environment here, by the names the config gives (`key_var`, header
`env_var`s). A missing variable doesn't fail the build; the first request raises a `ModelError`
naming it, so commands that never call the model still work without it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from oxy.config.models import (
    AnthropicModelConfig,
    GoogleModelConfig,
    HeaderValue,
    LiteLLMModelConfig,
    LocalModelConfig,
    ModelConfig,
    OllamaModelConfig,
    OpenAIModelConfig,
    VLLMModelConfig,
)
from oxy.config.plugins import load_plugins
from oxy.errors import NotSupported

from ._endpoints import Endpoint
from .client import ModelClient
from .retry import RetryPolicy

__all__ = ["client_for", "model_vendor"]

ConfigT = TypeVar("ConfigT")
Builder = Callable[[Any, Path], ModelClient]
_BUILDERS: dict[str, Builder] = {}
_plugins_loaded = False


def model_vendor(
    *vendors: str,
) -> Callable[[Callable[[ConfigT, Path], ModelClient]], Callable[[ConfigT, Path], ModelClient]]:
    """Register the decorated `(config, project_root) -> ModelClient` as the builder for `vendors`."""

    def register(builder: Callable[[ConfigT, Path], ModelClient]) -> Callable[[ConfigT, Path], ModelClient]:
        for vendor in vendors:
            _BUILDERS[vendor] = builder
        return builder

    return register


_AZURE_API_VERSION = "2024-10-21"
_clients: dict[tuple[object, ...], ModelClient] = {}


def client_for(cfg: ModelConfig, *, project_root: Path) -> ModelClient:
    """The process-wide client for `cfg` (rebuilt only if the config or its secrets change)."""
    key = (cfg.model_dump_json(), str(project_root), *(os.environ.get(v) for v in _env_vars(cfg)))
    client = _clients.get(key)
    if client is None:
        client = _clients[key] = _build(cfg, project_root)
    return client


def _env_vars(cfg: ModelConfig) -> list[str]:
    names = [v for v in (getattr(cfg, "key_var", None),) if v]
    if isinstance(cfg, OpenAIModelConfig) and cfg.key_var is None and cfg.api_url is None:
        names.append("OPENAI_API_KEY")
    headers: dict[str, HeaderValue] = getattr(cfg, "headers", None) or {}
    names.extend(v.env_var for v in headers.values() if not isinstance(v, str))
    return names


def _retry(cfg: ModelConfig) -> RetryPolicy:
    return RetryPolicy(
        max_retries=cfg.max_retries,
        backoff=cfg.retry_backoff,
        max_delay=cfg.retry_max_delay,
        first_token_timeout=cfg.first_token_timeout,
        chunk_timeout=cfg.chunk_timeout,
        deadline=cfg.deadline,
    )


def _headers(headers: dict[str, HeaderValue] | None, missing: list[str]) -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    for name, value in (headers or {}).items():
        if isinstance(value, str):
            out.append((name, value))
        elif (resolved := os.environ.get(value.env_var)) is not None:
            out.append((name, resolved))
        else:
            missing.append(
                f"header {name!r} needs the environment variable {value.env_var}, which is not set"
            )
    return tuple(out)


def _key(key_var: str | None, missing: list[str]) -> str | None:
    if key_var is None:
        return None
    value = os.environ.get(key_var)
    if not value:
        missing.append(f"the environment variable {key_var} (key_var) is not set")
    return value


def _build(cfg: ModelConfig, project_root: Path) -> ModelClient:
    builder = _BUILDERS.get(cfg.vendor)
    if builder is None:
        _load_plugins()
        builder = _BUILDERS.get(cfg.vendor)
    if builder is None:
        known = ", ".join(sorted(_BUILDERS))
        raise NotSupported(f"model {cfg.name!r}: no client for vendor {cfg.vendor!r}; vendors: {known}")
    return builder(cfg, project_root)


def _load_plugins() -> None:
    global _plugins_loaded
    if not _plugins_loaded:
        _plugins_loaded = True
        load_plugins("oxy.models")


@model_vendor("local")
def _local(cfg: LocalModelConfig, project_root: Path) -> ModelClient:
    # lazy: a client's SDK loads when a model of its vendor is used
    from .local import LocalLlamaClient, resolve_model_path

    return LocalLlamaClient(
        name=cfg.name,
        model_path=resolve_model_path(cfg.model_ref, project_root=project_root),
        n_ctx=cfg.n_ctx,
        n_threads=cfg.n_threads,
        chat_format=cfg.chat_format,
        seed=cfg.seed,
        max_tokens=cfg.max_tokens,
    )


@model_vendor("openai", "vllm", "ollama")
def _openai_compatible(
    cfg: OpenAIModelConfig | VLLMModelConfig | OllamaModelConfig, project_root: Path
) -> ModelClient:
    # lazy: a client's SDK loads when a model of its vendor is used
    from .openai_compatible import OpenAICompatibleClient

    missing: list[str] = []
    azure_version = azure_deployment = None
    if isinstance(cfg, OllamaModelConfig):
        key_var = None
        api_key = cfg.api_key or "ollama"
        headers: tuple[tuple[str, str], ...] = ()
    else:
        key_var = cfg.key_var
        if isinstance(cfg, OpenAIModelConfig):
            key_var = key_var or ("OPENAI_API_KEY" if cfg.api_url is None else None)
            if cfg.azure_api_version or cfg.azure_deployment_id:
                azure_version = cfg.azure_api_version or _AZURE_API_VERSION
                azure_deployment = cfg.azure_deployment_id
        api_key = _key(key_var, missing) or "EMPTY"  # servers without auth still need a non-empty key
        headers = _headers(cfg.headers, missing)
    endpoint = Endpoint(
        base_url=cfg.api_url,
        api_key=api_key,
        headers=headers,
        timeout=cfg.timeout,
        connect_timeout=cfg.connect_timeout,
        azure_api_version=azure_version,
        azure_deployment=azure_deployment,
    )
    return OpenAICompatibleClient(
        name=cfg.name,
        model=cfg.model_ref,
        endpoint=endpoint,
        vendor=cfg.vendor,
        retry=_retry(cfg),
        max_concurrency=cfg.max_concurrency,
        max_queue=cfg.max_queue,
        queue_timeout=cfg.queue_timeout,
        key_var=key_var,
        problem="; ".join(missing) or None,
    )


@model_vendor("anthropic", "google", "litellm")
def _litellm(
    cfg: AnthropicModelConfig | GoogleModelConfig | LiteLLMModelConfig, project_root: Path
) -> ModelClient:
    from .litellm_client import LiteLLMClient  # lazy: a client's SDK loads when a model of its vendor is used

    missing: list[str] = []
    model = cfg.model_ref
    if isinstance(cfg, AnthropicModelConfig) and not model.startswith("anthropic/"):
        model = f"anthropic/{model}"
    elif isinstance(cfg, GoogleModelConfig) and not model.startswith("gemini/"):
        model = f"gemini/{model}"
    api_base = None if isinstance(cfg, GoogleModelConfig) else cfg.api_url
    headers = None if isinstance(cfg, GoogleModelConfig) else dict(_headers(cfg.headers, missing))
    return LiteLLMClient(
        name=cfg.name,
        model=model,
        vendor=cfg.vendor,
        api_key=_key(cfg.key_var, missing),
        api_base=api_base,
        headers=headers,
        timeout=cfg.timeout,
        retry=_retry(cfg),
        max_concurrency=cfg.max_concurrency,
        key_var=cfg.key_var,
    )
