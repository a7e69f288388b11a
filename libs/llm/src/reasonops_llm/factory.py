"""Build an agent's router from settings: the chain names providers, settings say where."""

from __future__ import annotations

import asyncio

import httpx

from .breaker import CircuitBreaker
from .config import ChainEntry, LlmSettings, parse_chain
from .guard import PrivacyGuard
from .metrics import LlmMetrics
from .providers import (
    AnthropicProvider,
    AzureOpenAIProvider,
    GeminiProvider,
    HttpProvider,
    HuggingFaceProvider,
    OllamaProvider,
    OpenAIProvider,
    ProviderEndpoint,
)
from .router import RetryPolicy, Route, Router, Sleep

_CLASSES: dict[str, type[HttpProvider]] = {
    "ollama": OllamaProvider, "openai": OpenAIProvider, "azure": AzureOpenAIProvider,
    "anthropic": AnthropicProvider, "gemini": GeminiProvider,
    "huggingface": HuggingFaceProvider,
}


def provider_for(entry: ChainEntry, settings: LlmSettings,
                 client: httpx.AsyncClient | None = None) -> HttpProvider:
    url = getattr(settings, f"{entry.kind}_url", None)
    if not url:
        raise ValueError(f"{entry.kind} needs REASONOPS_LLM_{entry.kind.upper()}_URL")
    endpoint = ProviderEndpoint(base_url=url, api_key=settings.api_key(entry.kind),
                                timeout=settings.timeout_seconds,
                                external=settings.is_external(entry.kind),
                                api_version=settings.azure_api_version)
    return _CLASSES[entry.kind](endpoint, entry.model, client)


def build_router(agent: str, chain: str, settings: LlmSettings, metrics: LlmMetrics, *,
                 client: httpx.AsyncClient | None = None, sleep: Sleep = asyncio.sleep
                 ) -> Router:
    routes = []
    for entry in parse_chain(chain):
        if entry.kind == "rules":
            continue
        price_in, price_out = settings.price(entry.kind, entry.model)
        routes.append(Route(
            provider=provider_for(entry, settings, client),
            breaker=CircuitBreaker(failures=settings.breaker_failures,
                                   cooldown=settings.breaker_cooldown_seconds),
            limit=asyncio.Semaphore(settings.concurrency),
            price_in=price_in, price_out=price_out))
    guard = PrivacyGuard.configured(settings)
    retry = RetryPolicy(retries=settings.retries, backoff=settings.backoff_seconds,
                        max_retry_after=settings.max_retry_after_seconds)
    return Router(agent, routes, metrics=metrics, guard=guard, retry=retry,
                  max_tokens=settings.max_tokens, sleep=sleep)
