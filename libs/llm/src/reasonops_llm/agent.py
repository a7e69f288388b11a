"""What every agent service shares: settings, its router, its queue, its status answer."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from nats.aio.msg import Msg
from pydantic import Field, ValidationError
from pydantic_settings import SettingsConfigDict

from reasonops_contracts import subjects
from reasonops_contracts.agents import (
    AGENT_CONFIG_BUCKET,
    AgentConfig,
    AgentName,
    AgentStatus,
    AgentStatusQuery,
    ProviderStatus,
)
from reasonops_runtime import Service, ServiceSettings

from .config import ChainError, LlmSettings, agents_config_path, configured_chain
from .factory import build_router
from .metrics import LlmMetrics
from .queue import AgentQueue, Decide, Decided
from .repeats import Repeats
from .router import Router

log = logging.getLogger(__name__)


class AgentSettings(ServiceSettings):
    """Each agent subclasses this and gives ``chain`` its own variable
    (``REASONOPS_TRIAGE_CHAIN``, ...); ``REASONOPS_LLM_CHAIN`` is the default for all."""

    model_config = SettingsConfigDict(env_prefix="REASONOPS_", extra="ignore",
                                      populate_by_name=True)

    chain: str = ""
    agents_config: Path | None = Field(
        default=None, description="File written by `reasonops agents configure`; default "
        "<data_dir>/agents.yaml")
    queue_concurrency: int = Field(default=4, ge=1)
    queue_poll_seconds: float = Field(
        default=2.0, gt=0, description="REASONOPS_QUEUE_POLL_SECONDS: how often the queue"
        " looks for requests it was not woken for (another replica's, a lease run out); "
        "a request this process queues wakes it at once")
    lease_seconds: float = Field(default=300.0, gt=0)
    repeat_seconds: float = Field(
        default=3600.0, ge=0, description="REASONOPS_REPEAT_SECONDS: an agent asked the same "
        "about the same incident within this long (another workflow's request) repeats its "
        "decision instead of asking a provider again; 0 asks every time")


class AgentKit:
    def __init__(self, service: Service, agent: AgentName, settings: AgentSettings, *,
                 llm: LlmSettings | None = None, prompt_version: str,
                 client: httpx.AsyncClient | None = None) -> None:
        self.service = service
        self.agent = agent
        self.settings = settings
        self.llm = llm or LlmSettings()
        self.prompt_version = prompt_version
        self.metrics = LlmMetrics(service.registry)
        self.chain = configured_chain(
            agent, explicit=settings.chain,
            path=agents_config_path(settings.data_dir, settings.agents_config),
            default=self.llm.chain)
        self.client = client
        self.router: Router = build_router(agent, self.chain, self.llm, self.metrics,
                                           client=client)
        self.configured_by: str | None = None
        """Who set the configuration in force in the agents' bucket (None: settings)."""
        self.queue: AgentQueue | None = None
        self.repeats = Repeats(timedelta(seconds=settings.repeat_seconds))
        self._expose_metrics()
        self._watcher: Any = None
        self._following: asyncio.Task[None] | None = None
        service.startup_hooks.append(self._answer_status)
        service.startup_hooks.append(self._watch_configuration)
        service.shutdown_hooks.append(self._stop_watching)

    def apply(self, config: AgentConfig | None) -> None:
        """Decide with ``config``'s chain and temperature from the next decision on (None:
        the service's own settings). A chain that does not parse changes nothing."""
        chain = config.chain if config is not None else self.chain
        try:
            fresh = build_router(self.agent, chain, self.llm, self.metrics,
                                 client=self.client)
        except ChainError as exc:
            log.warning("agent configuration refused", extra={
                "agent": self.agent, "chain": chain, "error": str(exc)})
            return
        self.router.reconfigure(fresh.routes,
                                config.temperature if config is not None else 0.0)
        self.repeats.clear()
        self.configured_by = config.updated_by if config is not None else None
        self._expose_metrics()
        log.info("agent configuration applied", extra={
            "agent": self.agent, "chain": self.router.chain, "by": self.configured_by})

    async def _watch_configuration(self) -> None:
        """Apply this agent's key of the bucket now, then every change to it as it comes."""
        try:
            kv = await self.service.js.key_value(AGENT_CONFIG_BUCKET)
            self._watcher = await kv.watch(self.agent)
        except Exception as exc:
            log.warning("agent configuration bucket unavailable; using settings only",
                        extra={"agent": self.agent, "error": repr(exc)})
            return
        while True:  # the current value, then a None marker
            try:
                entry = await self._watcher.updates(timeout=5.0)
            except Exception:
                break
            if entry is None:
                break
            self._apply_entry(entry)
        self._following = asyncio.create_task(self._follow())

    async def _follow(self) -> None:
        async for entry in self._watcher:
            if entry is not None:
                self._apply_entry(entry)

    def _apply_entry(self, entry: Any) -> None:
        if entry.operation in ("DEL", "PURGE") or not entry.value:
            self.apply(None)
            return
        try:
            self.apply(AgentConfig.model_validate_json(entry.value))
        except ValidationError as exc:
            log.warning("agent configuration unreadable", extra={
                "agent": self.agent, "error": str(exc)})

    async def _stop_watching(self) -> None:
        if self._watcher is not None:
            with contextlib.suppress(Exception):
                await self._watcher.stop()
        if self._following is not None:
            self._following.cancel()
            with contextlib.suppress(BaseException):
                await self._following

    def _expose_metrics(self) -> None:
        """Series for every provider in the chain exist from the start (at zero), so
        dashboards and alert rules see them before the first call."""
        for route in self.router.routes:
            name = route.provider.name
            self.metrics.calls.labels(self.agent, name, route.provider.model, "ok")
            self.metrics.seconds.labels(self.agent, name)
            self.metrics.fallbacks.labels(self.agent, name)
            self.metrics.decisions.labels(self.agent, name)
            self.metrics.decision_seconds.labels(self.agent, name)
            for direction in ("in", "out"):
                self.metrics.tokens.labels(self.agent, name, direction)
        self.metrics.calls.labels(self.agent, "rules", "rules", "ok")
        self.metrics.seconds.labels(self.agent, "rules")
        self.metrics.decisions.labels(self.agent, "rules")
        self.metrics.decision_seconds.labels(self.agent, "rules")
        self.metrics.decisions.labels(self.agent, "repeat")  # answered by an earlier one

    def serve(self, decide: Decide, *, inline: bool = False) -> AgentQueue:
        """The agent's queue. ``inline``: ``decide`` needs nothing but the request, so
        while the chain asks no provider it decides in the consumer's transaction."""
        self.queue = AgentQueue(self.service, source=f"agent-{self.agent}", decide=decide,
                                on_recorded=self._recorded,
                                concurrency=self.settings.queue_concurrency,
                                poll_seconds=self.settings.queue_poll_seconds,
                                lease_seconds=self.settings.lease_seconds,
                                inline=self.offline if inline else None)
        return self.queue

    def offline(self) -> bool:
        """Whether the chain in force is the rules alone (no provider to ask)."""
        return not self.router.routes

    def _recorded(self, decided: Decided) -> None:
        decision = decided.decision
        if decision.same_as is not None:  # no provider was asked
            self.metrics.decisions.labels(self.agent, "repeat").inc()
            return
        self.metrics.decisions.labels(self.agent, decision.provider).inc()
        self.metrics.decision_seconds.labels(self.agent, decision.provider).observe(
            decision.latency_ms / 1000)

    async def status(self, probe: bool) -> AgentStatus:
        providers = []
        health = dict((id(r), h) for r, h in await self.router.health()) if probe else {}
        for route in self.router.routes:
            found = health.get(id(route))
            providers.append(ProviderStatus(
                provider=route.provider.name, model=route.provider.model,
                external=route.provider.external, circuit=route.breaker.state,
                healthy=found.healthy if found else None, detail=found.detail if found else ""))
        # The offline rules run in this process: known healthy without a probe (the
        # dashboard, which does not probe, showed them as unknown).
        providers.append(ProviderStatus(provider="rules", model="rules", external=False,
                                        circuit="closed", healthy=True))
        waiting, given_up = await self.queue.waiting() if self.queue else (0, 0)
        return AgentStatus(agent=self.agent, instance=self.settings.instance,
                           chain=self.router.chain, prompt_version=self.prompt_version,
                           providers=providers, pending=waiting, given_up=given_up,
                           temperature=self.router.temperature,
                           configured_by=self.configured_by)

    async def _answer_status(self) -> None:
        async def answer(msg: Msg) -> None:
            try:
                query = AgentStatusQuery.model_validate_json(msg.data or b"{}")
            except ValidationError:
                query = AgentStatusQuery()
            try:
                status = await self.status(query.probe)
            except Exception:
                log.exception("status query failed")
                return
            await msg.respond(status.model_dump_json().encode())

        await self.service.nc.subscribe(subjects.AGENT_QUERY_STATUS, cb=answer)
