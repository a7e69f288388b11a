"""Alert intake (batched) and the incident commands and queries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter

from reasonops_contracts import Envelope, Event
from reasonops_contracts.incidents import (
    AcknowledgeIncident,
    CloseIncident,
    GetIncident,
    IncidentAcknowledged,
    IncidentClosed,
    IncidentList,
    IncidentOpened,
    IncidentReopened,
    IncidentResolved,
    IncidentView,
    ListIncidents,
    ReopenIncident,
    ResolveIncident,
)
from reasonops_contracts.ingest import EventAccepted
from reasonops_runtime import Clock, Delivery, IllegalTransition, NotFound, Service, Transaction

from . import store
from .domain import Alert, Incident, Outcome, TransitionError, open_incident, route_alert
from .views import incident_view

SOURCE = "incidents"
INTAKE_CONSUMER = "incidents"


class IncidentMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.alerts = Counter("reasonops_incident_alerts_total",
                              "Alerts routed to incidents, by outcome", ["outcome"],
                              registry=registry)
        self.opened = Counter("reasonops_incidents_opened_total", "Incidents opened",
                              ["priority", "service"], registry=registry)
        self.transitions = Counter("reasonops_incident_transitions_total",
                                   "Incident state changes", ["action", "actor_kind"],
                                   registry=registry)


def _emit(tx: Transaction, event: Event, incident: Incident, cause: Envelope | None) -> None:
    if cause is not None:
        envelope = cause.caused(event, source=SOURCE, subject=incident.incident_id)
    else:
        envelope = Envelope.wrap(event, source=SOURCE, subject=incident.incident_id,
                                 correlation_id=incident.correlation_id)
    tx.emit(envelope, event.SUBJECT)


def _event_for(action: str, incident: Incident, at: datetime, actor: str,
               note: str | None) -> Event:
    iid = incident.incident_id
    if action == "acknowledge":
        return IncidentAcknowledged(incident_id=iid, acknowledged_at=at, actor=actor, note=note)
    if action == "resolve":
        return IncidentResolved(incident_id=iid, resolved_at=at, actor=actor, note=note)
    if action == "close":
        return IncidentClosed(incident_id=iid, closed_at=at, actor=actor, note=note)
    return IncidentReopened(incident_id=iid, reopened_at=at, actor=actor,
                            reason=note or "reopened")


def _opened_event(incident: Incident) -> IncidentOpened:
    return IncidentOpened(
        incident_id=incident.incident_id, title=incident.title, service=incident.service,
        resource=incident.resource, severity=incident.severity,  # type: ignore[arg-type]
        impact=incident.impact, urgency=incident.urgency, priority=incident.priority,
        priority_reason=incident.priority_reason, fingerprint=incident.fingerprint,
        labels=incident.labels, annotations=incident.annotations,
        first_alert_at=incident.first_alert_at, opened_at=incident.opened_at)


def _alert(event: EventAccepted) -> Alert:
    return Alert(fingerprint=event.fingerprint, status=event.status, name=event.name,
                 severity=event.severity, summary=event.summary, service=event.service,
                 resource=event.resource, labels=event.labels, annotations=event.annotations,
                 starts_at=event.starts_at)


class AlertIntake:
    """Routes a batch of accepted alerts to incidents with a handful of queries."""

    def __init__(self, clock: Clock, metrics: IncidentMetrics) -> None:
        self.clock = clock
        self.metrics = metrics

    def decode(self, delivery: Delivery) -> tuple[Envelope, EventAccepted]:
        envelope = Envelope.from_bytes(delivery.data)
        return envelope, envelope.decode(EventAccepted)

    def key(self, item: tuple[Envelope, EventAccepted]) -> str:
        return item[0].id

    async def __call__(self, tx: Transaction,
                       batch: Sequence[tuple[Delivery, Any]]) -> None:
        session = tx.session
        items: list[tuple[Envelope, EventAccepted]] = [item for _, item in batch]
        by_fingerprint = await store.load_alerts(session, {e.fingerprint for _, e in items})
        known = set(by_fingerprint)
        cache = await store.load_incidents(session, set(by_fingerprint.values()))
        numbers = store.IncidentNumbers(session)
        created: dict[str, Incident] = {}
        changed: dict[str, Incident] = {}
        seen: dict[str, tuple[str, str, datetime]] = {}
        for envelope, event in items:
            now = self.clock.now()
            alert = _alert(event)
            incident = cache.get(by_fingerprint.get(event.fingerprint, ""))
            outcome = route_alert(alert, incident)
            self.metrics.alerts.labels(outcome.value).inc()
            if outcome is Outcome.OPENED:
                incident = open_incident(alert, incident_id=await numbers.next(), at=now,
                                         correlation_id=envelope.correlation_id)
                cache[incident.incident_id] = created[incident.incident_id] = incident
                by_fingerprint[event.fingerprint] = incident.incident_id
                _emit(tx, _opened_event(incident), incident, envelope)
                self.metrics.opened.labels(f"P{incident.priority}", incident.service or "").inc()
            elif incident is not None and outcome is not Outcome.IGNORED:
                if outcome is Outcome.COUNTED:
                    incident.alert_count += 1
                    incident.updated_at = now
                else:
                    action = "reopen" if outcome is Outcome.REOPENED else "resolve"
                    verb = "firing again" if action == "reopen" else "resolved"
                    note = f"alert {event.name} {verb}"
                    incident.apply(action, now, note)
                    incident.alert_count += action == "reopen"
                    _emit(tx, _event_for(action, incident, now, "monitoring", note), incident,
                          envelope)
                    self.metrics.transitions.labels(action, "monitoring").inc()
                if incident.incident_id not in created:
                    changed[incident.incident_id] = incident
            if incident is not None:
                seen[event.fingerprint] = (incident.incident_id, event.status, now)
        await numbers.save()
        await store.save(session, created=list(created.values()), changed=list(changed.values()),
                         alert_rows=seen, known_alerts=known)


def register_commands(service: Service, metrics: IncidentMetrics) -> None:
    """Acknowledge/resolve/close/reopen commands and the list/get queries."""

    def transition(action: str):  # type: ignore[no-untyped-def]
        async def handle(cmd: Any) -> IncidentView:
            async with service.transaction() as tx:
                incident = await store.get_incident(tx.session, cmd.incident_id)
                if incident is None:
                    raise NotFound(f"no incident {cmd.incident_id}", "incident_id")
                now = service.clock.now()
                try:
                    incident.apply(action, now, cmd.note)
                except TransitionError as exc:
                    raise IllegalTransition(str(exc), "incident_id") from exc
                await store.save(tx.session, created=[], changed=[incident], alert_rows={},
                                 known_alerts=set())
                _emit(tx, _event_for(action, incident, now, cmd.actor, cmd.note), incident, None)
            metrics.transitions.labels(action, "user").inc()
            return incident_view(incident)
        return handle

    service.respond(AcknowledgeIncident, transition("acknowledge"))
    service.respond(ResolveIncident, transition("resolve"))
    service.respond(CloseIncident, transition("close"))
    service.respond(ReopenIncident, transition("reopen"))

    async def get(query: GetIncident) -> IncidentView:
        async with service.store.read() as session:
            incident = await store.get_incident(session, query.incident_id)
        if incident is None:
            raise NotFound(f"no incident {query.incident_id}", "incident_id")
        return incident_view(incident)

    async def list_(query: ListIncidents) -> IncidentList:
        async with service.store.read() as session:
            found = await store.list_incidents(session, states=query.states,
                                               service=query.service, limit=query.limit)
        return IncidentList(items=[incident_view(i) for i in found])

    service.respond(GetIncident, get)
    service.respond(ListIncidents, list_)
