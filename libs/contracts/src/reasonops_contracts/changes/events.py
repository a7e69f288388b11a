"""Changes: what happened to them, as events."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from .. import subjects
from ..messages import Event
from .fields import ChangeType, Outcome, Risk


class ChangeRequested(Event):
    SUBJECT = subjects.CHANGE_REQUESTED

    change_id: str
    type: ChangeType
    title: str
    services: list[str]
    risk: Risk
    risk_reason: str
    impact: int = Field(ge=1, le=3)
    planned_start: datetime
    planned_end: datetime
    template: str | None = None
    requested_by: str
    requested_at: datetime


class ChangeApproved(Event):
    SUBJECT = subjects.CHANGE_APPROVED

    change_id: str
    type: ChangeType
    approved_by: list[str] = Field(description="People, the advisory board's members, "
                                   "or template:<name> for a standard change")
    reason: str
    approved_at: datetime


class ChangeRejected(Event):
    SUBJECT = subjects.CHANGE_REJECTED

    change_id: str
    rejected_by: str
    reason: str
    rejected_at: datetime


class ChangeStarted(Event):
    """Implementation began: a maintenance window covers the affected services."""

    SUBJECT = subjects.CHANGE_STARTED

    change_id: str
    type: ChangeType
    title: str
    services: list[str]
    silence_ids: list[str] = Field(default_factory=list)
    started_at: datetime
    actor: str


class ChangeCompleted(Event):
    SUBJECT = subjects.CHANGE_COMPLETED

    change_id: str
    type: ChangeType
    outcome: Outcome
    note: str | None = None
    completed_at: datetime
    actor: str


class ChangeCancelled(Event):
    SUBJECT = subjects.CHANGE_CANCELLED

    change_id: str
    reason: str
    cancelled_at: datetime
    actor: str


class ChangeReviewed(Event):
    """The review after the fact an emergency change owes."""

    SUBJECT = subjects.CHANGE_REVIEWED

    change_id: str
    reviewed_by: str
    accepted: bool
    note: str | None = None
    reviewed_at: datetime


class ChangeIncidentLinked(Event):
    """An incident opened on an affected service during a change or shortly after it:
    possibly caused by the change."""

    SUBJECT = subjects.CHANGE_INCIDENT_LINKED

    change_id: str
    incident_id: str
    service: str
    reason: str
    linked_at: datetime
