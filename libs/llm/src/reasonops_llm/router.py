"""A router per agent: the provider chain in order, with retries, a circuit breaker and
a concurrency limit per provider, the privacy guard before external calls, validated
structured output, and ``rules`` last so an agent always answers."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Generic, Protocol, TypeVar

from pydantic import BaseModel

from .breaker import CircuitBreaker
from .errors import (
    CircuitOpen,
    GuardBlocked,
    InvalidOutput,
    ProviderError,
    RateLimited,
)
from .guard import PrivacyGuard
from .messages import ChatMessage, Completion, CompletionRequest, Health
from .metrics import LlmMetrics
from .prompts import RenderedPrompt
from .schema import output_schema, parse_output

log = logging.getLogger(__name__)
T = TypeVar("T", bound=BaseModel)
T_co = TypeVar("T_co", bound=BaseModel, covariant=True)
MILLION = Decimal(1_000_000)


class Provider(Protocol):
    name: str
    model: str
    external: bool

    async def complete(self, request: CompletionRequest) -> Completion: ...

    async def health(self) -> Health: ...


@dataclass(frozen=True)
class RetryPolicy:
    retries: int = 2
    backoff: float = 0.5
    max_retry_after: float = 30.0

    def delay(self, attempt: int, error: ProviderError) -> float | None:
        """Seconds to wait before retry ``attempt`` (1-based), or None to give up."""
        if not error.retryable or attempt > self.retries:
            return None
        if isinstance(error, RateLimited) and error.retry_after is not None:
            return error.retry_after if error.retry_after <= self.max_retry_after else None
        return float(min(self.backoff * 2 ** (attempt - 1), self.max_retry_after))


@dataclass
class Route:
    """One provider in a chain with its own breaker, limit and prices."""

    provider: Provider
    breaker: CircuitBreaker = field(default_factory=CircuitBreaker)
    limit: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(4))
    price_in: Decimal = Decimal(0)
    price_out: Decimal = Decimal(0)

    def cost(self, tokens_in: int, tokens_out: int) -> Decimal:
        return (self.price_in * tokens_in + self.price_out * tokens_out) / MILLION


@dataclass(frozen=True)
class Attempt:
    """One provider tried: what came of it and why the router moved on, if it did."""

    provider: str
    model: str
    outcome: str
    detail: str
    latency_ms: float
    tokens_in: int = 0
    tokens_out: int = 0


@dataclass(frozen=True)
class Answer(Generic[T_co]):
    output: T_co
    provider: str
    model: str
    attempts: tuple[Attempt, ...]
    latency_ms: float
    tokens_in: int
    tokens_out: int
    cost: Decimal
    redacted: tuple[str, ...]

    @property
    def fallback(self) -> bool:
        return len(self.attempts) > 1


Sleep = Callable[[float], Awaitable[None]]


class Router:
    def __init__(self, agent: str, routes: Sequence[Route], *, metrics: LlmMetrics,
                 guard: PrivacyGuard | None = None, retry: RetryPolicy | None = None,
                 max_tokens: int = 1024, temperature: float = 0.0,
                 sleep: Sleep = asyncio.sleep) -> None:
        self.agent = agent
        self.routes = list(routes)
        self.temperature = temperature
        self.metrics = metrics
        self.guard = guard or PrivacyGuard()
        self.retry = retry or RetryPolicy()
        self.max_tokens = max_tokens
        self.sleep = sleep

    def reconfigure(self, routes: Sequence[Route], temperature: float) -> None:
        """Use ``routes`` from the next decision on (one in flight finishes on the old)."""
        self.routes = list(routes)
        self.temperature = temperature

    @property
    def chain(self) -> str:
        return " -> ".join([*(f"{r.provider.name}:{r.provider.model}" for r in self.routes),
                            "rules"])

    async def decide(self, prompt: RenderedPrompt, model: type[T],
                     rules: Callable[[], T]) -> Answer[T]:
        """Ask each provider in turn; ``rules()`` answers when none did."""
        started = time.perf_counter()
        attempts: list[Attempt] = []
        redacted: set[str] = set()
        # A copy a provider may change; none is made when the rules alone answer.
        schema = output_schema(model) if self.routes else {}
        for route in self.routes:
            p = route.provider
            t0 = time.perf_counter()
            used: list[Completion] = []
            try:
                request, kinds = self._request(route, prompt, schema, model.__name__)
                redacted.update(kinds)
                output = await self._structured(route, request, model, used)
            except ProviderError as exc:
                attempts.append(Attempt(p.name, p.model, exc.outcome, str(exc),
                                        _ms(t0), *_tokens(used)))
                self.metrics.fallbacks.labels(self.agent, p.name).inc()
                log.info("provider gave no answer; trying the next",
                         extra={"agent": self.agent, "provider": p.name,
                                "outcome": exc.outcome, "detail": str(exc)})
                continue
            tokens_in, tokens_out = _tokens(used)
            attempts.append(Attempt(p.name, used[-1].model, "ok", "", _ms(t0),
                                    tokens_in, tokens_out))
            return Answer(output, p.name, used[-1].model, tuple(attempts), _ms(started),
                          tokens_in, tokens_out, route.cost(tokens_in, tokens_out),
                          tuple(sorted(redacted)))
        t0 = time.perf_counter()
        output = rules()
        self.metrics.calls.labels(self.agent, "rules", "rules", "ok").inc()
        self.metrics.seconds.labels(self.agent, "rules").observe(time.perf_counter() - t0)
        attempts.append(Attempt("rules", "rules", "ok", "", _ms(t0)))
        return Answer(output, "rules", "rules", tuple(attempts), _ms(started), 0, 0,
                      Decimal(0), tuple(sorted(redacted)))

    def _request(self, route: Route, prompt: RenderedPrompt, schema: dict[str, object],
                 name: str) -> tuple[CompletionRequest, set[str]]:
        system, user, kinds = prompt.system, prompt.user, set[str]()
        if route.provider.external:
            try:
                safe, found = self.guard.redact_prompt(prompt)
                system, user = safe.system, safe.user
            except GuardBlocked as exc:
                self._count(route, route.provider.model, "guard_blocked")
                raise exc
            except Exception as exc:  # fail closed: a guard bug blocks the call
                self._count(route, route.provider.model, "guard_blocked")
                raise GuardBlocked(f"privacy guard failed: {exc.__class__.__name__}") from None
            kinds = set(found)
        return CompletionRequest(system=system, messages=(ChatMessage("user", user),),
                                 schema=schema, schema_name=name,
                                 max_tokens=self.max_tokens,
                                 temperature=self.temperature), kinds

    async def _structured(self, route: Route, request: CompletionRequest, model: type[T],
                          used: list[Completion]) -> T:
        """Validate the reply; once, show the model its error and ask again."""
        completion = await self._call(route, request)
        used.append(completion)
        try:
            output = parse_output(model, completion.text)
        except InvalidOutput as first:
            self._count(route, completion.model, "invalid_output")
            correction = (f"Your reply was rejected: {first}. Reply again with only a JSON "
                          f"object that matches the schema.")
            request = CompletionRequest(
                system=request.system,
                messages=(*request.messages, ChatMessage("assistant", completion.text[:4000]),
                          ChatMessage("user", correction)),
                schema=request.schema, schema_name=request.schema_name,
                max_tokens=request.max_tokens)
        else:
            self._count(route, completion.model, "ok")
            return output
        completion = await self._call(route, request)
        used.append(completion)
        try:
            output = parse_output(model, completion.text)
        except InvalidOutput:
            self._count(route, completion.model, "invalid_output")
            raise
        self._count(route, completion.model, "ok")
        return output

    async def _call(self, route: Route, request: CompletionRequest) -> Completion:
        """One logical call: breaker, concurrency limit, retries with backoff."""
        p = route.provider
        attempt = 0
        while True:
            if not route.breaker.allow():
                self._count(route, p.model, "circuit_open")
                raise CircuitOpen(f"{p.name}: circuit open after repeated failures")
            t0 = time.perf_counter()
            try:
                async with route.limit:
                    completion = await p.complete(request)
            except ProviderError as exc:
                route.breaker.failed()
                self._count(route, p.model, exc.outcome, t0)
                attempt += 1
                delay = self.retry.delay(attempt, exc)
                if delay is None:
                    raise
                await self.sleep(delay)
                continue
            route.breaker.succeeded()
            # Counted as ok or invalid_output once the reply has been validated.
            self.metrics.seconds.labels(self.agent, p.name).observe(time.perf_counter() - t0)
            self.metrics.tokens.labels(self.agent, p.name, "in").inc(completion.tokens_in)
            self.metrics.tokens.labels(self.agent, p.name, "out").inc(completion.tokens_out)
            return completion

    def _count(self, route: Route, model: str, outcome: str, t0: float | None = None) -> None:
        name = route.provider.name
        self.metrics.calls.labels(self.agent, name, model, outcome).inc()
        if t0 is not None:
            self.metrics.seconds.labels(self.agent, name).observe(time.perf_counter() - t0)

    async def health(self) -> list[tuple[Route, Health]]:
        """Probe every provider (concurrently); ``rules`` is always healthy."""
        async def probe(route: Route) -> Health:
            try:
                return await route.provider.health()
            except ProviderError as exc:
                return Health(False, str(exc))
        found = await asyncio.gather(*(probe(r) for r in self.routes))
        return list(zip(self.routes, found, strict=True))


def _ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 3)


def _tokens(used: list[Completion]) -> tuple[int, int]:
    return sum(c.tokens_in for c in used), sum(c.tokens_out for c in used)
