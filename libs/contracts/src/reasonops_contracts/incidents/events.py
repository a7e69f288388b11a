"""Incidents: what happened to them, as events."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from .. import subjects
from ..ingest import Severity
from ..messages import Event
from .fields import IncidentState
from .silences import CoveringSilence


class IncidentOpened(Event):
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
    rule: str | None = Field(default=None, description="Correlation rule that opened it")
    group_key: str | None = Field(default=None, description="Correlation group")
    alert_count: int = Field(default=1, description="Alerts it opened with")
    assignment_group: str | None = None
    major: bool = False
    covering_silence: CoveringSilence | None = Field(
        default=None, description="The silence covering the incident when it opened, as "
        "GetCoveringSilence answers (silence_id None: none); None: not said, ask")


class IncidentAcknowledged(Event):
    SUBJECT = subjects.INCIDENT_ACKNOWLEDGED

    incident_id: str
    acknowledged_at: datetime
    actor: str
    note: str | None = None


class IncidentResolved(Event):
    SUBJECT = subjects.INCIDENT_RESOLVED

    incident_id: str
    resolved_at: datetime
    actor: str
    note: str | None = None


class IncidentClosed(Event):
    SUBJECT = subjects.INCIDENT_CLOSED

    incident_id: str
    closed_at: datetime
    actor: str
    note: str | None = None


class IncidentReopened(Event):
    SUBJECT = subjects.INCIDENT_REOPENED

    incident_id: str
    reopened_at: datetime
    actor: str
    reason: str


class IncidentHeld(Event):
    """The incident waits on someone outside the resolver group (caller, supplier)."""

    SUBJECT = subjects.INCIDENT_HELD

    incident_id: str
    held_at: datetime
    actor: str
    reason: str = Field(description="e.g. awaiting_supplier, awaiting_caller")
    previous_state: IncidentState


class IncidentResumed(Event):
    SUBJECT = subjects.INCIDENT_RESUMED

    incident_id: str
    resumed_at: datetime
    actor: str
    state: IncidentState = Field(description="The state the incident returned to")


class IncidentAssigned(Event):
    SUBJECT = subjects.INCIDENT_ASSIGNED

    incident_id: str
    assignment_group: str
    previous_group: str | None = None
    assigned_at: datetime
    actor: str
    reason: str


class IncidentPriorityChanged(Event):
    SUBJECT = subjects.INCIDENT_PRIORITY_CHANGED

    incident_id: str
    priority: int = Field(ge=1, le=5)
    previous_priority: int = Field(ge=1, le=5)
    impact: int = Field(ge=1, le=3)
    urgency: int = Field(ge=1, le=3)
    changed_at: datetime
    actor: str
    reason: str


class IncidentEscalated(Event):
    """Nobody acknowledged within the team's hand-off time: the next level is paged."""

    SUBJECT = subjects.INCIDENT_ESCALATED

    incident_id: str
    level: int = Field(ge=2, description="The level now responsible (1 = the assigned team)")
    target: str = Field(description="Who is paged at this level")
    assignment_group: str
    policy: str
    escalated_at: datetime
    reason: str


class IncidentMajorDeclared(Event):
    """A major incident: P1, or flagged by hand. The orchestrator starts its procedure."""

    SUBJECT = subjects.INCIDENT_MAJOR_DECLARED

    incident_id: str
    title: str
    service: str | None = None
    priority: int = Field(ge=1, le=5)
    declared_at: datetime
    actor: str
    reason: str


class IncidentCommented(Event):
    """A comment on the incident's timeline (by a person, or from a synced tool)."""

    SUBJECT = subjects.INCIDENT_COMMENTED

    incident_id: str
    commented_at: datetime
    actor: str
    note: str
