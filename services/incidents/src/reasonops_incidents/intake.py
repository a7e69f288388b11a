"""Alert intake: a whole batch of accepted alerts routed to incidents in a few queries.

Most alerts in a storm are repeats of a firing alert, which only raise a count. So a
batch reads just the state of the incidents its fingerprints point at, adds repeats
with one ``alert_count = alert_count + n`` update per incident, and loads a full
incident only when it changes state.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from reasonops_contracts import Envelope
from reasonops_contracts.ingest import EventAccepted
from reasonops_runtime import Clock, Delivery, Transaction

from . import store
from .domain import Alert, Incident, Outcome, State, open_incident, route_alert
from .events import emit, opened_event, transition_event
from .metrics import IncidentMetrics


class WorkingSet:
    """The incidents one batch touches, loaded as little as possible."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.by_fingerprint: dict[str, str] = {}
        self.known_fingerprints: set[str] = set()
        self.states: dict[str, State] = {}
        self.full: dict[str, Incident] = {}
        self.created: dict[str, Incident] = {}
        self.bumps: Counter[str] = Counter()
        self.seen: dict[str, tuple[str, str, datetime]] = {}

    async def load(self, fingerprints: set[str]) -> None:
        self.by_fingerprint = await store.load_alerts(self.session, fingerprints)
        self.known_fingerprints = set(self.by_fingerprint)
        self.states = await store.load_states(self.session, set(self.by_fingerprint.values()))

    def state_for(self, fingerprint: str) -> State | None:
        incident_id = self.by_fingerprint.get(fingerprint)
        return self.states.get(incident_id) if incident_id else None

    async def incident(self, incident_id: str) -> Incident:
        """The full incident, loaded on first need, with this batch's repeats folded in."""
        if incident_id not in self.full:
            loaded = await store.get_incident(self.session, incident_id)
            assert loaded is not None, incident_id  # the alert index points at it
            self.full[incident_id] = loaded
        incident = self.full[incident_id]
        incident.alert_count += self.bumps.pop(incident_id, 0)
        return incident

    def add(self, incident: Incident, fingerprint: str) -> None:
        self.full[incident.incident_id] = self.created[incident.incident_id] = incident
        self.states[incident.incident_id] = incident.state
        self.by_fingerprint[fingerprint] = incident.incident_id

    async def save(self, at: datetime) -> None:
        await store.bump_counts(self.session, self.bumps, at)
        changed = [i for key, i in self.full.items() if key not in self.created]
        await store.save(self.session, created=list(self.created.values()), changed=changed,
                         alert_rows=self.seen, known_alerts=self.known_fingerprints)


class AlertIntake:
    """The incident service's batch handler for ``EventAccepted``."""

    def __init__(self, clock: Clock, metrics: IncidentMetrics) -> None:
        self.clock = clock
        self.metrics = metrics

    def decode(self, delivery: Delivery) -> tuple[Envelope, EventAccepted]:
        envelope = Envelope.from_bytes(delivery.data)
        return envelope, envelope.decode(EventAccepted)

    def key(self, item: tuple[Envelope, EventAccepted]) -> str:
        return item[0].id

    async def __call__(self, tx: Transaction, batch: Sequence[tuple[Delivery, Any]]) -> None:
        items: list[tuple[Envelope, EventAccepted]] = [item for _, item in batch]
        work = WorkingSet(tx.session)
        await work.load({event.fingerprint for _, event in items})
        numbers = store.IncidentNumbers(tx.session)
        outcomes: Counter[str] = Counter()
        now = self.clock.now()
        for envelope, event in items:
            now = self.clock.now()
            with tx.span("incident.correlate", cause=envelope) as span:
                outcome = route_alert(event.status, work.state_for(event.fingerprint))
                span.set_attributes({"reasonops.fingerprint": event.fingerprint,
                                     "reasonops.correlation.outcome": outcome.value})
            outcomes[outcome.value] += 1
            incident_id = work.by_fingerprint.get(event.fingerprint)
            if outcome is Outcome.OPENED:
                incident = open_incident(_alert(event), incident_id=await numbers.next(), at=now,
                                         correlation_id=envelope.correlation_id)
                work.add(incident, event.fingerprint)
                emit(tx, opened_event(incident), incident, envelope)
                self.metrics.opened.labels(f"P{incident.priority}", incident.service or "").inc()
                incident_id = incident.incident_id
            elif outcome is Outcome.COUNTED and incident_id:
                if incident_id in work.full:
                    work.full[incident_id].alert_count += 1
                    work.full[incident_id].updated_at = now
                else:
                    work.bumps[incident_id] += 1
            elif outcome in (Outcome.REOPENED, Outcome.RESOLVED) and incident_id:
                await self._transition(tx, work, incident_id, outcome, event, envelope, now)
            if incident_id:
                work.seen[event.fingerprint] = (incident_id, event.status, now)
        await numbers.save()
        await work.save(now)
        for outcome_name, count in outcomes.items():
            self.metrics.alerts.labels(outcome_name).inc(count)

    async def _transition(self, tx: Transaction, work: WorkingSet, incident_id: str,
                          outcome: Outcome, event: EventAccepted, envelope: Envelope,
                          now: datetime) -> None:
        incident = await work.incident(incident_id)
        action = "reopen" if outcome is Outcome.REOPENED else "resolve"
        note = f"alert {event.name} {'firing again' if action == 'reopen' else 'resolved'}"
        incident.apply(action, now, note)
        incident.alert_count += action == "reopen"
        work.states[incident_id] = incident.state
        emit(tx, transition_event(action, incident, now, "monitoring", note), incident, envelope)
        self.metrics.transitioned(action, "monitoring", incident)


def _alert(event: EventAccepted) -> Alert:
    return Alert(fingerprint=event.fingerprint, status=event.status, name=event.name,
                 severity=event.severity, summary=event.summary, service=event.service,
                 resource=event.resource, labels=event.labels, annotations=event.annotations,
                 starts_at=event.starts_at)
