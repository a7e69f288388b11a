"""Triage requests in, recorded decisions out."""

from __future__ import annotations

import logging
import time

from prometheus_client import CollectorRegistry, Counter, Histogram

from reasonops_contracts import Envelope, new_id
from reasonops_contracts.agents import AgentDecisionRecorded, TriageRequested
from reasonops_runtime import Clock, EventRouter, Transaction

from . import store
from .providers import Provider

SOURCE = "agent-triage"
CONSUMER = "agent-triage"

log = logging.getLogger(__name__)


class TriageMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.decisions = Counter("reasonops_agent_decisions_total",
                                 "Triage decisions recorded, by provider and category",
                                 ["provider", "category"], registry=registry)
        self.latency = Histogram("reasonops_agent_decision_seconds",
                                 "Time a provider took to decide", ["provider"],
                                 registry=registry)


class TriageAgent:
    """Asks the provider, records the decision and publishes it, in one transaction."""

    def __init__(self, provider: Provider, clock: Clock, metrics: TriageMetrics) -> None:
        self.provider = provider
        self.clock = clock
        self.metrics = metrics

    def router(self) -> EventRouter:
        router = EventRouter()
        router.on_many(TriageRequested)(self.on_requested)
        return router

    async def on_requested(self, tx: Transaction,
                           batch: list[tuple[Envelope, TriageRequested]]) -> None:
        """Decide every request in a run that has no decision yet; record them together."""
        done = await store.decided(tx.session, {r.request_id for _, r in batch})
        made = []
        for envelope, request in batch:
            if request.request_id in done:
                log.info("triage request already decided",
                         extra={"request": request.request_id})
                continue
            done.add(request.request_id)
            decision = await self.decide(request)
            made.append(decision)
            tx.emit(envelope.caused(decision, source=SOURCE, subject=request.incident_id),
                    AgentDecisionRecorded.SUBJECT)
            self.metrics.decisions.labels(decision.provider, decision.output.category).inc()
        await store.record(tx.session, made)

    async def decide(self, request: TriageRequested) -> AgentDecisionRecorded:
        started = time.perf_counter()
        output = await self.provider.triage(request)
        elapsed = time.perf_counter() - started
        self.metrics.latency.labels(self.provider.name).observe(elapsed)
        return AgentDecisionRecorded(
            decision_id=new_id(), agent="triage", request_id=request.request_id,
            workflow_id=request.workflow_id, incident_id=request.incident_id,
            provider=self.provider.name, model=self.provider.model,
            prompt_version=self.provider.prompt_version, latency_ms=round(elapsed * 1000, 3),
            output=output, decided_at=self.clock.now(),
        )
