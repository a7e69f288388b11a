"""Incidents: lifecycle events, commands and queries."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from . import subjects
from .ingest import Severity
from .messages import Command, Event, Query, View

IncidentState = Literal["new", "acknowledged", "on_hold", "resolved", "closed"]
"""``on_hold``: waiting on the caller or a supplier; SLA clocks with a pause condition stop."""
INCIDENT_ID_PATTERN = r"^INC\d{7,}$"


class IncidentOpened(Event):
    TYPE = "itsm.incident.opened.v1"
    SUBJECT = subjects.INCIDENT_OPENED

    incident_id: str
    title: str
    service: str | None = None
    resource: str | None = None
    severity: Severity
    impact: int = Field(ge=1, le=3)
    urgency: int = Field(ge=1, le=3)
    priority: int = Field(ge=1, le=5)
    priority_reason: str
    fingerprint: str
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    first_alert_at: datetime | None = None
    opened_at: datetime


class IncidentAcknowledged(Event):
    TYPE = "itsm.incident.acknowledged.v1"
    SUBJECT = subjects.INCIDENT_ACKNOWLEDGED

    incident_id: str
    acknowledged_at: datetime
    actor: str
    note: str | None = None


class IncidentResolved(Event):
    TYPE = "itsm.incident.resolved.v1"
    SUBJECT = subjects.INCIDENT_RESOLVED

    incident_id: str
    resolved_at: datetime
    actor: str
    note: str | None = None


class IncidentClosed(Event):
    TYPE = "itsm.incident.closed.v1"
    SUBJECT = subjects.INCIDENT_CLOSED

    incident_id: str
    closed_at: datetime
    actor: str
    note: str | None = None


class IncidentReopened(Event):
    TYPE = "itsm.incident.reopened.v1"
    SUBJECT = subjects.INCIDENT_REOPENED

    incident_id: str
    reopened_at: datetime
    actor: str
    reason: str


class IncidentHeld(Event):
    """The incident waits on someone outside the resolver group (caller, supplier)."""

    TYPE = "itsm.incident.held.v1"
    SUBJECT = subjects.INCIDENT_HELD

    incident_id: str
    held_at: datetime
    actor: str
    reason: str = Field(description="e.g. awaiting_supplier, awaiting_caller")
    previous_state: IncidentState


class IncidentResumed(Event):
    TYPE = "itsm.incident.resumed.v1"
    SUBJECT = subjects.INCIDENT_RESUMED

    incident_id: str
    resumed_at: datetime
    actor: str
    state: IncidentState = Field(description="The state the incident returned to")


class IncidentAssigned(Event):
    TYPE = "itsm.incident.assigned.v1"
    SUBJECT = subjects.INCIDENT_ASSIGNED

    incident_id: str
    assignment_group: str
    previous_group: str | None = None
    assigned_at: datetime
    actor: str
    reason: str


class IncidentPriorityChanged(Event):
    TYPE = "itsm.incident.priority_changed.v1"
    SUBJECT = subjects.INCIDENT_PRIORITY_CHANGED

    incident_id: str
    priority: int = Field(ge=1, le=5)
    previous_priority: int = Field(ge=1, le=5)
    impact: int = Field(ge=1, le=3)
    urgency: int = Field(ge=1, le=3)
    changed_at: datetime
    actor: str
    reason: str


class _IncidentCommand(Command):
    incident_id: str = Field(pattern=INCIDENT_ID_PATTERN)
    actor: str = Field(default="cli", min_length=1, max_length=128)
    note: str | None = Field(default=None, max_length=4096)


class AcknowledgeIncident(_IncidentCommand):
    SUBJECT = subjects.INCIDENT_CMD_ACKNOWLEDGE


class ResolveIncident(_IncidentCommand):
    SUBJECT = subjects.INCIDENT_CMD_RESOLVE


class CloseIncident(_IncidentCommand):
    SUBJECT = subjects.INCIDENT_CMD_CLOSE


class ReopenIncident(_IncidentCommand):
    SUBJECT = subjects.INCIDENT_CMD_REOPEN


class HoldIncident(_IncidentCommand):
    """Put the incident on hold; ``note`` carries the reason (e.g. awaiting_supplier)."""

    SUBJECT = subjects.INCIDENT_CMD_HOLD


class ResumeIncident(_IncidentCommand):
    SUBJECT = subjects.INCIDENT_CMD_RESUME


class ListIncidents(Query):
    SUBJECT = subjects.INCIDENT_QUERY_LIST

    states: list[IncidentState] | None = None
    service: str | None = None
    limit: int = Field(default=100, ge=1, le=1000)


class GetIncident(Query):
    SUBJECT = subjects.INCIDENT_QUERY_GET

    incident_id: str = Field(pattern=INCIDENT_ID_PATTERN)


class IncidentView(View):
    incident_id: str
    title: str
    state: IncidentState
    service: str | None
    resource: str | None
    severity: Severity
    impact: int
    urgency: int
    priority: int
    priority_reason: str
    fingerprint: str
    alert_count: int
    labels: dict[str, str]
    opened_at: datetime
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    updated_at: datetime
    note: str | None = None


class IncidentList(View):
    items: list[IncidentView]
