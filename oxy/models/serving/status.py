"""`endpoint_status(model)`: how one configured model endpoint is doing, asked over HTTP: reachable, the
models it serves, its `/health`, and the requests it is working on (vLLM's `/metrics`) next to oxy's
own requests in flight against the model's `max_concurrency`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from oxy.config.models import ModelConfig, VLLMModelConfig
from oxy.config.secrets import redact_url

from .._endpoints import limiter_for_existing
from .plan import probe_headers

__all__ = ["EndpointStatus", "endpoint_status", "in_flight", "served_ids"]

_METRIC = re.compile(r"^(vllm:num_requests_(?:running|waiting))(?:\{[^}]*\})?\s+([0-9.eE+-]+)$", re.M)


@dataclass(kw_only=True)
class EndpointStatus:
    model: str
    url: str | None
    reachable: bool | None = None
    """None: nothing to reach (an in-process model, or a vendor oxy does not probe)."""
    served: list[str] = field(default_factory=list[str])
    health: str = "n/a"
    running: int | None = None
    waiting: int | None = None
    in_flight: int = 0
    """This process's requests to the model now (its `max_concurrency` slots taken)."""
    max_concurrency: int | None = None
    error: str | None = None

    @property
    def serves_model(self) -> bool:
        return bool(self.served)

    def as_dict(self) -> dict[str, object]:
        return {
            "model": self.model,
            "url": self.url,
            "reachable": self.reachable,
            "served": self.served,
            "health": self.health,
            "running": self.running,
            "waiting": self.waiting,
            "in_flight": self.in_flight,
            "max_concurrency": self.max_concurrency,
            "error": self.error,
        }


async def endpoint_status(model: ModelConfig, *, timeout: float = 2.0) -> EndpointStatus:
    url: str | None = getattr(model, "api_url", None)
    status = EndpointStatus(
        model=model.name,
        url=redact_url(url) if url else None,
        max_concurrency=model.max_concurrency,
        in_flight=_in_flight(url, model),
    )
    if not url or model.vendor not in ("vllm", "ollama", "openai"):
        return status
    parts = urlsplit(url)
    root = f"{parts.scheme}://{parts.netloc}"
    headers = probe_headers(model) if isinstance(model, VLLMModelConfig) else {}
    async with httpx.AsyncClient(timeout=timeout, trust_env=False, headers=headers) as http:
        try:
            listed = await http.get(f"{url.rstrip('/')}/models")
        except httpx.HTTPError as exc:
            status.reachable, status.error = False, _why(exc)
            return status
        status.reachable = True
        if listed.status_code == 200:
            try:
                status.served = [
                    str(m.get("id")) for m in listed.json().get("data", []) if isinstance(m, dict)
                ]
            except (ValueError, AttributeError):
                status.error = "/models did not answer JSON"
        else:
            status.error = f"/models answered {listed.status_code}"
        try:
            health = await http.get(f"{root}/health")
            status.health = "ok" if health.status_code == 200 else str(health.status_code)
            metrics = await http.get(f"{root}/metrics")
            if metrics.status_code == 200:
                for name, value in _METRIC.findall(metrics.text):
                    count = int(float(value))
                    if name.endswith("running"):
                        status.running = (status.running or 0) + count
                    else:
                        status.waiting = (status.waiting or 0) + count
        except httpx.HTTPError:
            pass
    return status


async def served_ids(http: httpx.AsyncClient, api_url: str) -> list[str] | None:
    """The model ids `GET {api_url}/models` lists; None when it does not answer 200 with JSON."""
    try:
        listed = await http.get(f"{api_url.rstrip('/')}/models")
        if listed.status_code != 200:
            return None
        return [str(m.get("id")) for m in listed.json().get("data", []) if isinstance(m, dict)]
    except (ValueError, AttributeError):
        return None


def in_flight(model: ModelConfig) -> int:
    """This process's requests to `model` now (its `max_concurrency` slots taken)."""
    return _in_flight(getattr(model, "api_url", None), model)


def _in_flight(url: str | None, model: ModelConfig) -> int:
    if model.max_concurrency is None:
        return 0
    limiter = limiter_for_existing((url, model.model_ref))
    return int(limiter.borrowed_tokens) if limiter is not None else 0


def _why(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.ConnectError):
        return "nothing listens there"
    if isinstance(exc, httpx.TimeoutException):
        return "no answer in time"
    return type(exc).__name__
