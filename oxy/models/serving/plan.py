"""`ServerPlan`: the command line, environment and address of one model's server, built from its
`serve:` block. vLLM gets `vllm serve MODEL --host --port`, the tool-call parser of its family and
`--enable-auto-tool-choice`, then `serve.args` as flags; llama.cpp gets llama-cpp-python's server on the
GGUF file (`smollm2`: the shipped SmolLM2)."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from oxy.config.models import EnvVarHeader, FlagValue, ModelConfig, ServeConfig, VLLMModelConfig
from oxy.config.secrets import resolve_secret
from oxy.errors import ConfigError

from .parsers import tool_call_parser

__all__ = ["ServerPlan", "plan_for", "served_models"]


@dataclass(frozen=True, kw_only=True)
class ServerPlan:
    model: str
    """The model's name in config.yml."""
    model_ref: str
    engine: str
    argv: tuple[str, ...]
    env: dict[str, str] = field(repr=False)
    host: str
    port: int
    api_url: str
    """Where its OpenAI-compatible API answers (`.../v1`)."""
    startup_timeout: float
    max_restarts: int
    parser: str | None = None
    probe_headers: dict[str, str] = field(default_factory=dict[str, str], repr=False)
    """What oxy sends when it asks the server whether it is ready (its API key, when it has one)."""

    @property
    def root_url(self) -> str:
        """The server's root (`/health` lives here), without the API's `/v1`."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


def served_models(models: list[ModelConfig]) -> list[VLLMModelConfig]:
    """The models with a `serve:` block, in config order."""
    return [m for m in models if isinstance(m, VLLMModelConfig) and m.serve is not None]


def plan_for(model: VLLMModelConfig, *, project_root: Path) -> ServerPlan:
    """The plan to serve `model`; a `ConfigError` for a family without a known parser, a GGUF file that
    does not exist, or an unset environment variable."""
    serve = model.serve
    if serve is None:
        raise ConfigError(f"model {model.name!r} has no `serve:` block: oxy does not start its server")
    host, port = _address(model)
    env = {**os.environ, **_env(serve, model.name)}
    if serve.engine == "vllm":
        argv, parser = _vllm(model, serve, host, port)
    else:
        argv, parser = _llamacpp(model, serve, host, port, project_root), None
    return ServerPlan(
        model=model.name,
        model_ref=model.model_ref,
        engine=serve.engine,
        argv=tuple(argv),
        env=env,
        host=host,
        port=port,
        api_url=model.api_url.rstrip("/"),
        startup_timeout=serve.startup_timeout,
        max_restarts=serve.max_restarts,
        parser=parser,
        probe_headers=probe_headers(model),
    )


def probe_headers(model: VLLMModelConfig) -> dict[str, str]:
    """`Authorization: Bearer <key>` when the model's `key_var` is set (a vLLM started with --api-key
    answers 401 on /v1/models otherwise)."""
    key = os.environ.get(model.key_var) if model.key_var else None
    return {"Authorization": f"Bearer {key}"} if key else {}


def _address(model: VLLMModelConfig) -> tuple[str, int]:
    parts = urlsplit(model.api_url)
    if parts.scheme != "http" or not parts.hostname:
        raise ConfigError(
            f"model {model.name!r}: api_url {model.api_url!r} must be http://HOST:PORT/v1 for oxy to serve it "
            "there",
            file="config.yml",
        )
    return parts.hostname, parts.port or 80


def _env(serve: ServeConfig, model: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for key, value in serve.env.items():
        if isinstance(value, EnvVarHeader):
            value = resolve_secret(value.env_var, key=f"models.{model}.serve.env.{key}")
        values[key] = value
    return values


def _flags(args: dict[str, FlagValue], *, vllm: bool) -> list[str]:
    """vLLM: `--dashed-name value`; `true` a bare flag, `false` its `--no-` form; a list as several values;
    a mapping as JSON. llama-cpp-python's server: `--field_name value`, booleans as `true`/`false` values.
    Null leaves a flag out."""
    flags: list[str] = []
    for key, value in args.items():
        name = key.replace("_", "-") if vllm else key
        if value is None:
            continue
        if isinstance(value, bool) and vllm:
            flags.append(f"--{name}" if value else f"--no-{name}")
        elif isinstance(value, list):
            flags.extend([f"--{name}", *(str(v) for v in value)])
        elif isinstance(value, dict):
            flags.extend([f"--{name}", json.dumps(value)])
        else:
            flags.extend([f"--{name}", str(value).lower() if isinstance(value, bool) else str(value)])
    return flags


def _vllm(model: VLLMModelConfig, serve: ServeConfig, host: str, port: int) -> tuple[list[str], str | None]:
    command = list(serve.command or ["vllm"])
    argv = [*command, "serve", model.model_ref, "--host", host, "--port", str(port)]
    parser = serve.tool_call_parser
    if parser == "auto":
        parser = tool_call_parser(model.model_ref, model=model.name)
    if parser is not None:
        argv += ["--enable-auto-tool-choice", "--tool-call-parser", parser]
        template = _chat_template(parser)
        if template is not None and "chat_template" not in serve.args:
            argv += ["--chat-template", template]
    return argv + _flags(serve.args, vllm=True), parser


def _chat_template(parser: str) -> str | None:
    """vLLM's own tool-calling chat template for Llama 3.1/3.2 JSON calls, where its install ships one."""
    if parser != "llama3_json":
        return None
    spec = importlib.util.find_spec("vllm")
    if spec is None or spec.origin is None:
        return None
    package = Path(spec.origin).parent
    for candidate in (
        package / "examples" / "tool_chat_template_llama3.1_json.jinja",
        package.parent / "examples" / "tool_chat_template_llama3.1_json.jinja",
    ):
        if candidate.is_file():
            return str(candidate)
    return None


def _llamacpp(
    model: VLLMModelConfig, serve: ServeConfig, host: str, port: int, project_root: Path
) -> list[str]:
    path = _gguf(model, project_root)
    argv = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(path),
        "--host",
        host,
        "--port",
        str(port),
    ]
    argv += ["--model_alias", model.model_ref]
    args = dict(serve.args)
    # Its default stops a streaming answer whenever another request arrives: concurrent runs would cut
    # each other off. Requests queue instead.
    args.setdefault("interrupt_requests", False)
    if model.model_ref.lower() in ("smollm2", "smollm2-135m-instruct"):
        args.setdefault("chat_format", "chatml-function-calling")
    return argv + _flags(args, vllm=False)


def _gguf(model: VLLMModelConfig, project_root: Path) -> Path:
    if model.model_ref.lower() in ("smollm2", "smollm2-135m-instruct"):
        from oxy.models.local import shipped_model_path  # lazy: only llama.cpp serving needs it

        shipped = shipped_model_path()
        if shipped is None:
            raise ConfigError(
                f"model {model.name!r}: the shipped SmolLM2 is not installed: run oxy models install-local",
                file="config.yml",
            )
        return shipped
    path = Path(model.model_ref)
    path = path if path.is_absolute() else project_root / path
    if not path.is_file():
        raise ConfigError(
            f"model {model.name!r}: the GGUF file {model.model_ref!r} does not exist (model_ref is a path "
            "relative to the project, or smollm2)",
            file="config.yml",
        )
    return path
