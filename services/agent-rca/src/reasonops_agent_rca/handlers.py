"""Events in, a read model kept; on acknowledgement or request, hypotheses out."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from reasonops_contracts import Envelope
from reasonops_contracts.agents import (
    AgentDecisionRecorded,
    RcaOutput,
    RcaRequested,
    SecurityOutput,
    TriageOutput,
)
from reasonops_contracts.catalog import ServiceCatalog
from reasonops_contracts.changes import ChangeStarted
from reasonops_contracts.incidents import (
    IncidentAcknowledged,
    IncidentAssigned,
    IncidentHeld,
    IncidentOpened,
    IncidentPriorityChanged,
    IncidentResolved,
    IncidentResumed,
)
from reasonops_contracts.ingest import ChangeAccepted, EventAccepted
from reasonops_llm import Decided, PromptTemplate, Router, decision_from
from reasonops_llm.embeddings import Embedder
from reasonops_llm.queue import AgentQueue
from reasonops_runtime import Clock, EventRouter, Transaction
from reasonops_runtime.store import Store

from . import store
from .briefings import Briefings
from .domain import AlertSeen, ChangeSeen, Context, analyse, keep_known_evidence
from .past import PastIncidents
from .shown import shown

SOURCE = "agent-rca"

ALERTS_BEFORE = timedelta(hours=1)
ALERTS_AFTER = timedelta(minutes=15)
CHANGES_BEFORE = timedelta(hours=24)
CHANGES_AFTER = timedelta(minutes=5)


def _alert(row: Any) -> AlertSeen:
    return AlertSeen(row.fingerprint, row.name, row.service, row.summary, row.at)


class RcaAgent:
    def __init__(self, db: Store, router: Router, template: PromptTemplate,
                 clock: Clock, catalog: ServiceCatalog, embedder: Embedder | None = None,
                 briefing_template: PromptTemplate | None = None) -> None:
        self.db = db
        self.briefings = Briefings(db, router, briefing_template or template, clock)
        self.past = PastIncidents(embedder)
        self.router = router
        self.template = template
        self.clock = clock
        self.catalog = catalog
        self.queue: AgentQueue | None = None

    def ingest(self) -> EventRouter:
        router = EventRouter()
        router.on_many(EventAccepted)(self.on_alerts)
        router.on_many(ChangeAccepted)(self.on_changes)
        return router

    def changes(self) -> EventRouter:
        router = EventRouter()
        router.on_many(ChangeStarted)(self.on_changes_started)
        return router

    def incidents(self) -> EventRouter:
        router = EventRouter()
        router.on_many(IncidentOpened)(self.on_opened)
        for model in (IncidentResolved, IncidentAcknowledged, IncidentHeld, IncidentResumed,
                      IncidentAssigned, IncidentPriorityChanged):
            router.on_many(model)(self.on_lifecycle)
        return router

    def agents(self) -> EventRouter:
        router = EventRouter()
        router.on(RcaRequested)(self.on_requested)
        router.on_many(AgentDecisionRecorded)(self.on_decisions)
        return router

    async def on_alerts(self, tx: Transaction, batch: list[tuple[Envelope, EventAccepted]]
                        ) -> None:
        await store.add_alerts(tx.session, [e for _, e in batch])

    async def on_changes(self, tx: Transaction, batch: list[tuple[Envelope, ChangeAccepted]]
                         ) -> None:
        await store.add_changes(tx.session, [e for _, e in batch])

    async def on_changes_started(self, tx: Transaction,
                                 batch: list[tuple[Envelope, ChangeStarted]]) -> None:
        """A change implemented through change management weighs as a deploy a sender
        reported: one change per affected service, from when it started."""
        await store.add_changes(tx.session, [ChangeAccepted(
            change_id=e.change_id if len(e.services) == 1 else f"{e.change_id}/{service}",
            summary=f"{e.change_id} ({e.type} change): {e.title}", source="changes",
            service=service, timestamp=e.started_at, received_at=e.started_at)
            for _, e in batch for service in e.services])

    async def on_opened(self, tx: Transaction, batch: list[tuple[Envelope, IncidentOpened]]
                        ) -> None:
        await store.add_incidents(tx.session, [e for _, e in batch])
        await store.note(tx.session, [(e.incident_id, e.opened_at, "opened",
                                       f"P{e.priority}: {e.title} ({e.priority_reason})")
                                      for _, e in batch])

    async def on_lifecycle(self, tx: Transaction, batch: list[tuple[Envelope, Any]]) -> None:
        """A run of lifecycle events: their timeline notes and resolutions in a statement
        each; an acknowledgement also asks for a root cause."""
        notes: list[tuple[str, datetime, str, str]] = []
        resolutions: list[tuple[str, datetime, str | None]] = []
        priorities: list[tuple[str, int]] = []
        for envelope, event in batch:
            if isinstance(event, IncidentResolved):
                resolutions.append((event.incident_id, event.resolved_at, event.note))
                notes.append((event.incident_id, event.resolved_at, "resolved",
                              f"by {event.actor}: {event.note or ''}"))
            elif isinstance(event, IncidentAcknowledged):
                notes.append((event.incident_id, event.acknowledged_at, "acknowledged",
                              f"by {event.actor}"))
                await self._enqueue(tx, envelope, f"rca:{event.incident_id}:acknowledged",
                                    event.incident_id)
            elif isinstance(event, IncidentHeld):
                notes.append((event.incident_id, event.held_at, "held",
                              f"by {event.actor}: {event.reason}"))
            elif isinstance(event, IncidentResumed):
                notes.append((event.incident_id, event.resumed_at, "resumed",
                              f"by {event.actor}"))
            elif isinstance(event, IncidentAssigned):
                notes.append((event.incident_id, event.assigned_at, "assigned",
                              f"to {event.assignment_group}: {event.reason}"))
            elif isinstance(event, IncidentPriorityChanged):
                priorities.append((event.incident_id, event.priority))
                notes.append((event.incident_id, event.changed_at, "priority",
                              f"P{event.previous_priority} -> P{event.priority}: "
                              f"{event.reason}"))
        await store.resolved(tx.session, resolutions)
        if resolutions:
            self.past.forget()
        await store.prioritised(tx.session, priorities)
        await store.note(tx.session, notes)

    async def on_decisions(self, tx: Transaction,
                           batch: list[tuple[Envelope, AgentDecisionRecorded]]) -> None:
        """Other agents' decisions: on the incidents' timelines, kept for briefings, and
        a briefing asked for each incident two or more agents have now spoken about."""
        others = [d for _, d in batch if d.agent not in ("rca", "briefing")]
        await store.note(tx.session, [
            (d.incident_id, d.decided_at, f"{d.agent} decision", d.summary or "")
            for d in others if d.incident_id])
        await store.categorised(tx.session, [
            (d.incident_id, d.output.category) for d in others
            if isinstance(d.output, TriageOutput) and d.incident_id])
        sources = {d.decision_id: d.output.source for _, d in batch
                   if isinstance(d.output, SecurityOutput) and d.output.pattern is not None}
        kept = [d for _, d in batch if d.agent != "briefing"
                and (d.incident_id or d.decision_id in sources)]
        fresh = await store.keep_decisions(tx.session, kept, sources)
        assert self.queue is not None
        await self.briefings.ask(tx, self.queue, batch, fresh, sources)

    async def on_requested(self, tx: Transaction, envelope: Envelope,
                           request: RcaRequested) -> None:
        await self._enqueue(tx, envelope, request.request_id, request.incident_id,
                            request.workflow_id)

    async def _enqueue(self, tx: Transaction, envelope: Envelope, request_id: str,
                       incident_id: str, workflow_id: str = "") -> None:
        if await store.incident(tx.session, incident_id) is None:
            # The incident's opening may still be on its way on another stream: fail so
            # the request comes back later (and is dead-lettered if it never arrives).
            raise LookupError(f"{incident_id} not seen opened yet")
        assert self.queue is not None
        await self.queue.enqueue(tx, envelope, request_id, "rca", {
            "request_id": request_id, "incident_id": incident_id, "workflow_id": workflow_id})

    async def context(self, incident_id: str) -> Context:
        """Everything the read model knows around the incident."""
        async with self.db.read() as session:
            row = await store.incident(session, incident_id)
            deps = list(self.catalog.dependencies_of(row.service)) if row.service else []
            opened = row.opened_at
            near = dict(start=opened - ALERTS_BEFORE, end=opened + ALERTS_AFTER)
            own = await store.alerts_between(session, services=[row.service or ""],
                                             fingerprint=row.fingerprint, **near)
            dep_alerts = await store.alerts_between(session, services=deps, fingerprint=None,
                                                    **near) if deps else []
            changed = await store.changes_between(
                session, services=[s for s in [row.service, *deps] if s],
                start=opened - CHANGES_BEFORE, end=opened + CHANGES_AFTER)
            past = await self.past.read(session)
            history = await store.timeline_of(session, incident_id)
        similar = await self.past.like(row, past)
        unique_own = {a.fingerprint: _alert(a) for a in own}
        return Context(incident_id=incident_id, title=row.title, service=row.service,
                       opened_at=opened, own_alerts=list(unique_own.values()),
                       dependencies=deps,
                       dependency_alerts=list({a.fingerprint: _alert(a)
                                               for a in dep_alerts}.values()),
                       changes=[ChangeSeen(c.change_id, c.summary, c.service, c.at,
                                           tuple(c.links)) for c in changed],
                       similar=similar, category=row.category,
                       timeline=[(t.at, t.kind, t.text) for t in history])

    async def decide(self, kind: str, payload: dict[str, Any], cause: Envelope) -> Decided:
        if kind == "briefing":
            return await self.briefings.decide(payload)
        ctx = await self.context(payload["incident_id"])
        first = analyse(ctx)
        own, own_groups = shown(ctx.own_alerts)
        deps, dep_groups = shown(ctx.dependency_alerts)
        prompt = self.template.render({"incident": {
            "id": ctx.incident_id, "title": ctx.title, "service": ctx.service,
            "opened_at": ctx.opened_at.isoformat(), "category": ctx.category,
            "depends_on": list(ctx.dependencies)},
            "own_alerts": own, "own_alert_groups": own_groups,
            "dependency_alerts": deps, "dependency_alert_groups": dep_groups,
            "changes": [dict(vars(c)) for c in ctx.changes],
            "similar_incidents": [dict(vars(p)) for p in ctx.similar],
            "timeline": [{"at": at.isoformat(), "what": kind, "detail": text}
                         for at, kind, text in ctx.timeline],
            "first_ranking": first.model_dump(mode="json")})
        answer = await self.router.decide(prompt, RcaOutput, lambda: first)
        answer = replace(answer, output=keep_known_evidence(answer.output, ctx))
        top = answer.output.hypotheses[0]
        return Decided(decision_from(
            answer, prompt, agent="rca",
            request_id=payload["request_id"], incident_id=ctx.incident_id,
            workflow_id=payload.get("workflow_id") or "", decided_at=self.clock.now(),
            summary=f"Root cause ({answer.provider}): {top.cause} ({top.confidence:.0%})"))
