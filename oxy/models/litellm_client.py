"""Anthropic, Gemini and any other litellm model id, through litellm (imported on first use: ~2 s)."""

from __future__ import annotations

import importlib
import os
from collections.abc import AsyncGenerator, AsyncIterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from types import ModuleType
from typing import Any

import anyio

from oxy.config.secrets import redact_url, url_secrets
from oxy.errors import NotSupported

from ._endpoints import limiter_for
from ._retrying import RetryingClient
from .retry import Failure, RetryPolicy

__all__ = ["LiteLLMClient", "import_litellm"]


def import_litellm() -> ModuleType:
    """Import litellm without letting it fetch its cost map from the network."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    try:
        return importlib.import_module("litellm")
    except ImportError as exc:
        raise NotSupported(
            "This model needs litellm, which is not installed: run pip install 'oxy-engine[litellm]'."
        ) from exc


class LiteLLMClient(RetryingClient):
    """`litellm.acompletion` with oxy's retries (litellm's own are turned off)."""

    def __init__(
        self,
        *,
        name: str,
        model: str,
        vendor: str = "litellm",
        api_key: str | None = None,
        api_base: str | None = None,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
        retry: RetryPolicy | None = None,
        max_concurrency: int | None = None,
        key_var: str | None = None,
    ) -> None:
        super().__init__(name=name, vendor=vendor, model=model, retry=retry)
        self.retryable = _retryable()  # litellm's exceptions subclass the openai SDK's
        self.key_var = key_var
        self.max_concurrency = max_concurrency
        self._limiter: anyio.CapacityLimiter | None = None
        self._options: dict[str, Any] = {"num_retries": 0}
        if api_key is not None:
            self._options["api_key"] = api_key
        if api_base is not None:
            self._options["api_base"] = api_base
        if headers:
            self._options["extra_headers"] = headers
        if timeout is not None:
            self._options["timeout"] = timeout
        self._secrets = tuple(
            v for v in (api_key, *(headers or {}).values(), *url_secrets(api_base or "")) if v
        )
        self._litellm: ModuleType | None = None

    def __repr__(self) -> str:
        return f"LiteLLMClient(name={self.name!r}, model={self.model!r})"

    def _module(self) -> ModuleType:
        if self._litellm is None:
            self._litellm = import_litellm()
        return self._litellm

    def slot(self) -> AbstractAsyncContextManager[Any]:
        if self.max_concurrency is None:
            return super().slot()
        if self._limiter is None:
            endpoint = (self._options.get("api_base"), self.model)
            self._limiter = limiter_for(endpoint, self.max_concurrency)
        return self._limiter

    async def complete(self, body: dict[str, Any]) -> Any:
        return await self._module().acompletion(**body, **self._options)

    @asynccontextmanager
    async def open_stream(self, body: dict[str, Any]) -> AsyncGenerator[AsyncIterable[Any], None]:
        chunks = await self._module().acompletion(**body, **self._options)
        try:
            yield chunks
        finally:
            close = getattr(chunks, "aclose", None)
            if close is not None:
                await close()

    def failure(self, exc: BaseException) -> Failure:
        from ._failures import openai_failure  # lazy: the openai SDK comes with litellm

        return openai_failure(
            exc,
            url=redact_url(str(self._options.get("api_base") or self.model)),
            model=self.model,
            key_var=self.key_var,
            timeout=self._options.get("timeout"),
        )

    def secrets(self) -> tuple[str, ...]:
        return self._secrets


def _retryable() -> tuple[type[BaseException], ...]:
    """The exceptions `failure` reads: the openai SDK's, which litellm brings. Without litellm there is
    no SDK either, and the first request says what to install (`import_litellm`)."""
    try:
        from ._failures import RETRYABLE  # lazy: the openai SDK comes with litellm
    except ImportError:
        return ()
    return RETRYABLE
