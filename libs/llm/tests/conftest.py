from typing import Literal

import pytest
from prometheus_client import CollectorRegistry
from pydantic import BaseModel, Field

from reasonops_llm import ChainEntry, LlmMetrics, LlmSettings, RetryPolicy, Route, Router
from reasonops_llm.breaker import CircuitBreaker
from reasonops_llm.fakes import FakeLlmServer
from reasonops_llm.prompts import RenderedPrompt

KINDS = ["openai", "azure", "ollama", "anthropic", "gemini", "huggingface"]
API_KEY = "sk-proj-Q3vT9xLm2KpR7wZs4NbY8cHd"


class Verdict(BaseModel):
    category: Literal["network", "database", "application"]
    confidence: float = Field(ge=0, le=1)
    summary: str


GOOD = {"category": "database", "confidence": 0.8, "summary": "replication lag on db-1"}
RULES = Verdict(category="application", confidence=0.2, summary="rules")
PROMPT = RenderedPrompt(system="Classify.", user="Replication lag on db-1", version="t.v1",
                        hash="abc")


def settings_for(url: str, **extra) -> LlmSettings:
    values = {f"{k}_url": url for k in KINDS}
    values.update({f"{k}_api_key": API_KEY for k in KINDS})
    values.update(timeout_seconds=0.5, retries=2, backoff_seconds=0.01)
    values.update(extra)
    return LlmSettings(**values)


class Recorder:
    def __init__(self):
        self.sleeps: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def make_router(kind: str, url: str, *, breaker: CircuitBreaker | None = None,
                registry: CollectorRegistry | None = None, sleep=None, **extra):
    from reasonops_llm import provider_for

    settings = settings_for(url, **extra)
    provider = provider_for(ChainEntry(kind, "fake-model"), settings)
    route = Route(provider=provider, breaker=breaker or CircuitBreaker(failures=50))
    metrics = LlmMetrics(registry or CollectorRegistry())
    return Router("test", [route], metrics=metrics, sleep=sleep or Recorder(),
                  retry=RetryPolicy(retries=settings.retries, backoff=0.01,
                                    max_retry_after=settings.max_retry_after_seconds))


@pytest.fixture
async def fake():
    servers = []

    async def start(answer=GOOD, **kwargs) -> FakeLlmServer:
        server = await FakeLlmServer(answer, **kwargs).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop()
