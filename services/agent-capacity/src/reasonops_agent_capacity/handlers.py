"""Capacity alerts in; forecasts queued; decisions and urgency proposals out."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from reasonops_contracts import Envelope, new_id
from reasonops_contracts.agents import AgentProposalRecorded, CapacityOutput, CapacityRequested
from reasonops_contracts.incidents import IncidentOpened
from reasonops_contracts.ingest import EventAccepted
from reasonops_llm import Decided, PromptTemplate, Router, decision_from
from reasonops_llm.queue import AgentQueue
from reasonops_runtime import Clock, EventRouter, Transaction

from . import store
from .domain import Reading, assess, forecast, reading, urgency

SOURCE = "agent-capacity"
log = logging.getLogger(__name__)
IncidentLookup = Callable[[str], Awaitable[str | None]]


class CapacityAgent:
    def __init__(self, router: Router, template: PromptTemplate, clock: Clock, *,
                 targets: Mapping[str, float], lookback: timedelta, min_points: int,
                 incident_for: IncidentLookup) -> None:
        self.router = router
        self.template = template
        self.clock = clock
        self.targets = targets
        self.lookback = lookback
        self.min_points = min_points
        self.incident_for = incident_for
        self.queue: AgentQueue | None = None

    def alerts(self) -> EventRouter:
        router = EventRouter()
        router.on_many(EventAccepted, wanted=lambda e: reading(
            e, received=e.received_at) is not None)(self.on_alerts)
        return router

    def incidents(self) -> EventRouter:
        router = EventRouter()
        router.on_many(IncidentOpened)(self.on_opened)
        return router

    def requests(self) -> EventRouter:
        router = EventRouter()
        router.on(CapacityRequested)(self.on_requested)
        return router

    def target(self, severity: str) -> float:
        return self.targets.get(severity, self.targets.get("warning", 24.0))

    async def on_opened(self, tx: Transaction,
                        batch: list[tuple[Envelope, IncidentOpened]]) -> None:
        await store.remember_incidents(tx.session, {e.fingerprint: e.incident_id
                                                    for _, e in batch})

    async def on_alerts(self, tx: Transaction,
                        batch: list[tuple[Envelope, EventAccepted]]) -> None:
        """Record every measurement; re-forecast each series touched; ask for a decision
        when the suggested urgency of a series changes."""
        found = [(env, r) for env, r in ((env, reading(e, received=e.received_at))
                                         for env, e in batch) if r]
        if not found:
            return
        await store.add(tx.session, [r for _, r in found])
        latest: dict[str, tuple[Envelope, Reading]] = {}
        for envelope, r in found:
            if r.series not in latest or r.at >= latest[r.series][1].at:
                latest[r.series] = (envelope, r)
        for series, (envelope, last) in latest.items():
            await store.forget_before(tx.session, series, last.at - self.lookback)
            history = await store.recent(tx.session, series, last.at - self.lookback)
            if len(history) < self.min_points:
                continue
            found_forecast = forecast([(r.at, r.value) for r in history], last.limit)
            level, _ = urgency(found_forecast.hours_left, self.target(last.severity))
            previous = await store.last_urgency(tx.session, series)
            if previous == level:
                continue
            await store.set_urgency(tx.session, series, level, previous is not None)
            await self._enqueue(tx, envelope, f"capacity:{series}:{last.at.isoformat()}",
                                history)

    async def on_requested(self, tx: Transaction, envelope: Envelope,
                           request: CapacityRequested) -> None:
        history = await store.recent(tx.session, request.series,
                                     self.clock.now() - self.lookback)
        if not history:
            log.warning("capacity request for a series without points",
                        extra={"series": request.series})
            return
        await self._enqueue(tx, envelope, request.request_id, history, request.incident_id)

    async def _enqueue(self, tx: Transaction, envelope: Envelope, request_id: str,
                       history: list[Reading], incident_id: str | None = None) -> None:
        last = history[-1]
        assert self.queue is not None
        await self.queue.enqueue(tx, envelope, request_id, "forecast", {
            "request_id": request_id, "incident_id": incident_id, "series": last.series,
            "metric": last.metric, "resource": last.resource, "severity": last.severity,
            "fingerprint": last.fingerprint, "limit": last.limit,
            "points": [[r.at.isoformat(), r.value] for r in history]})

    async def decide(self, kind: str, payload: dict[str, Any], cause: Envelope) -> Decided:
        history = [(datetime.fromisoformat(at), float(v)) for at, v in payload["points"]]
        last = Reading(series=payload["series"], metric=payload["metric"],
                       resource=payload["resource"], value=history[-1][1],
                       limit=payload["limit"], at=history[-1][0], severity=payload["severity"],
                       fingerprint=payload["fingerprint"])
        found = forecast(history, last.limit)
        rules = assess(last, found, self.target(last.severity))
        prompt = self.template.render({**payload, "forecast": rules.model_dump(mode="json")})
        answer = await self.router.decide(prompt, CapacityOutput, lambda: rules)
        facts = rules.model_dump(exclude={"reasons", "summary"})
        output = answer.output.model_copy(update=facts)
        answer = replace(answer, output=output)
        incident_id = payload.get("incident_id") or await self.incident_for(last.fingerprint)
        now = self.clock.now()
        decision = decision_from(answer, prompt, agent="capacity",
                                 request_id=payload["request_id"], incident_id=incident_id,
                                 summary=f"Capacity ({answer.provider}): {output.summary}",
                                 decided_at=now)
        decided = Decided(decision)
        if output.suggested_urgency == 1:
            decided.events.append(AgentProposalRecorded(
                proposal_id=new_id(), decision_id=decision.decision_id, agent="capacity",
                incident_id=incident_id, action="raise_urgency",
                target=incident_id or f"fingerprint:{last.fingerprint}",
                parameters={"urgency": "1", "series": last.series,
                            "hours_to_exhaustion": str(output.hours_to_exhaustion)},
                reason=output.reasons[-1] if output.reasons else output.summary,
                proposed_at=now))
        return decided

