"""Incident -> the events it publishes."""

from __future__ import annotations

from datetime import datetime

from reasonops_contracts import Envelope, Event
from reasonops_contracts.incidents import (
    CoveringSilence,
    IncidentAcknowledged,
    IncidentAssigned,
    IncidentClosed,
    IncidentHeld,
    IncidentMajorDeclared,
    IncidentOpened,
    IncidentPriorityChanged,
    IncidentReopened,
    IncidentResolved,
    IncidentResumed,
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
    tx.emit(envelope)


def transition_event(action: str, incident: Incident, at: datetime, actor: str,
                     note: str | None) -> Event:
    iid = incident.incident_id
    if action == "acknowledge":
        return IncidentAcknowledged(incident_id=iid, acknowledged_at=at, actor=actor, note=note)
    if action == "resolve":
        return IncidentResolved(incident_id=iid, resolved_at=at, actor=actor, note=note)
    if action == "close":
        return IncidentClosed(incident_id=iid, closed_at=at, actor=actor, note=note)
    if action == "hold":
        return IncidentHeld(incident_id=iid, held_at=at, actor=actor,
                            reason=note or "on hold",
                            previous_state=incident.held_from or "new")  # type: ignore[arg-type]
    if action == "resume":
        return IncidentResumed(incident_id=iid, resumed_at=at, actor=actor,
                               state=incident.state.value)  # type: ignore[arg-type]
    return IncidentReopened(incident_id=iid, reopened_at=at, actor=actor,
                            reason=note or "reopened")


def opened_event(incident: Incident, covering: CoveringSilence | None = None
                 ) -> IncidentOpened:
    """``covering``: the silence covering it as it opens, when the opener knows."""
    return IncidentOpened(
        incident_id=incident.incident_id, title=incident.title, service=incident.service,
        resource=incident.resource, severity=incident.severity,  # type: ignore[arg-type]
        impact=incident.impact, urgency=incident.urgency, priority=incident.priority,
        priority_reason=incident.priority_reason, fingerprint=incident.fingerprint,
        labels=incident.labels, annotations=incident.annotations,
        first_alert_at=incident.first_alert_at, opened_at=incident.opened_at,
        rule=incident.rule, group_key=incident.group_key, alert_count=incident.alert_count,
        assignment_group=incident.assignment_group, major=incident.major,
        covering_silence=covering)


def assigned_event(incident: Incident, previous: str | None, at: datetime, actor: str,
                   reason: str) -> IncidentAssigned:
    return IncidentAssigned(incident_id=incident.incident_id,
                            assignment_group=incident.assignment_group or "",
                            previous_group=previous, assigned_at=at, actor=actor, reason=reason)


def priority_event(incident: Incident, previous: int, at: datetime, actor: str
                   ) -> IncidentPriorityChanged:
    return IncidentPriorityChanged(
        incident_id=incident.incident_id, priority=incident.priority, previous_priority=previous,
        impact=incident.impact, urgency=incident.urgency, changed_at=at, actor=actor,
        reason=incident.priority_reason)


def major_event(incident: Incident, at: datetime, actor: str, reason: str
                ) -> IncidentMajorDeclared:
    return IncidentMajorDeclared(incident_id=incident.incident_id, title=incident.title,
                                 service=incident.service, priority=incident.priority,
                                 declared_at=at, actor=actor, reason=reason)
