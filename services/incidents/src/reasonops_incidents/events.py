"""Incident -> the events it publishes."""

from __future__ import annotations

from datetime import datetime

from reasonops_contracts import Envelope, Event
from reasonops_contracts.incidents import (
    IncidentAcknowledged,
    IncidentClosed,
    IncidentOpened,
    IncidentReopened,
    IncidentResolved,
)
from reasonops_runtime import Transaction

from .domain import Incident

SOURCE = "incidents"


def emit(tx: Transaction, event: Event, incident: Incident, cause: Envelope | None) -> None:
    """Publish with the cause's correlation, or the incident's own for user commands."""
    if cause is not None:
        envelope = cause.caused(event, source=SOURCE, subject=incident.incident_id)
    else:
        envelope = Envelope.wrap(event, source=SOURCE, subject=incident.incident_id,
                                 correlation_id=incident.correlation_id)
    tx.emit(envelope, event.SUBJECT)


def transition_event(action: str, incident: Incident, at: datetime, actor: str,
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


def opened_event(incident: Incident) -> IncidentOpened:
    return IncidentOpened(
        incident_id=incident.incident_id, title=incident.title, service=incident.service,
        resource=incident.resource, severity=incident.severity,  # type: ignore[arg-type]
        impact=incident.impact, urgency=incident.urgency, priority=incident.priority,
        priority_reason=incident.priority_reason, fingerprint=incident.fingerprint,
        labels=incident.labels, annotations=incident.annotations,
        first_alert_at=incident.first_alert_at, opened_at=incident.opened_at)
