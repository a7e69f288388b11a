"""Text embeddings for similarity (Ollama ``/api/embed``, OpenAI-compatible
``/v1/embeddings``), behind the same privacy guard as chat calls."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol

from .config import LlmSettings, parse_chain
from .errors import InvalidOutput
from .guard import PrivacyGuard
from .providers.base import HttpProvider, ProviderEndpoint, dig


class Embedder(Protocol):
    name: str
    model: str

    async def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


class _HttpEmbedder(HttpProvider):
    def __init__(self, endpoint: ProviderEndpoint, model: str, guard: PrivacyGuard) -> None:
        super().__init__(endpoint, model)
        self.guard = guard

    def _safe(self, texts: Sequence[str]) -> list[str]:
        if not self.external:
            return list(texts)
        redacted, _ = self.guard.redact_all(list(texts))  # raises GuardBlocked: no call
        return redacted

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        raise NotImplementedError

    @staticmethod
    def _vectors(found: object, count: int) -> list[list[float]]:
        if not isinstance(found, list) or len(found) != count:
            raise InvalidOutput(f"expected {count} embeddings")
        return [[float(x) for x in v] for v in found]


class OllamaEmbedder(_HttpEmbedder):
    kind = "ollama"

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        body = await self._send("POST", "/api/embed", json={"model": self.model,
                                                            "input": self._safe(texts)})
        return self._vectors(dig(body, "embeddings"), len(texts))


class OpenAIEmbedder(_HttpEmbedder):
    kind = "openai"

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        headers = {"Authorization": f"Bearer {self.key}"} if self.key else {}
        body = await self._send("POST", "/v1/embeddings", headers=headers,
                                json={"model": self.model, "input": self._safe(texts)})
        rows = sorted(dig(body, "data") or [], key=lambda r: r.get("index", 0))
        return self._vectors([r.get("embedding") for r in rows], len(texts))


def build_embedder(spec: str, settings: LlmSettings) -> Embedder | None:
    """``ollama:nomic-embed-text`` or ``openai:text-embedding-3-small``; empty: none."""
    if not spec.strip():
        return None
    entry = parse_chain(spec)[0]
    classes: dict[str, type[_HttpEmbedder]] = {"ollama": OllamaEmbedder,
                                               "openai": OpenAIEmbedder}
    if entry.kind not in classes:
        raise ValueError(f"embeddings: {entry.kind!r} not supported; use ollama or openai")
    url = getattr(settings, f"{entry.kind}_url")
    endpoint = ProviderEndpoint(base_url=url, api_key=settings.api_key(entry.kind),
                                timeout=settings.timeout_seconds,
                                external=settings.is_external(entry.kind))
    return classes[entry.kind](endpoint, entry.model, PrivacyGuard.configured(settings))


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=False))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0
