"""Changes -> the events they publish."""

from __future__ import annotations

from datetime import datetime

from reasonops_contracts import Envelope, Event
from reasonops_contracts.changes import (
    ChangeApproved,
    ChangeCancelled,
    ChangeCompleted,
    ChangeIncidentLinked,
    ChangeRejected,
    ChangeRequested,
    ChangeReviewed,
    ChangeStarted,
)

from .domain import Change

SOURCE = "changes"


def wrap(event: Event, change_id: str, at: datetime) -> Envelope:
    return Envelope.wrap(event, source=SOURCE, subject=change_id, time=at)


def requested(c: Change) -> Envelope:
    return wrap(ChangeRequested(
        change_id=c.change_id, type=c.type,  # type: ignore[arg-type]
        title=c.title, services=c.services, risk=c.risk,  # type: ignore[arg-type]
        risk_reason=c.risk_reason, impact=c.impact, planned_start=c.planned_start,
        planned_end=c.planned_end, template=c.template, requested_by=c.requested_by,
        requested_at=c.requested_at), c.change_id, c.requested_at)


def approved(c: Change, at: datetime) -> Envelope:
    return wrap(ChangeApproved(change_id=c.change_id, type=c.type,  # type: ignore[arg-type]
                               approved_by=c.approved_by, reason=c.decision or "approved",
                               approved_at=at), c.change_id, at)


def rejected(c: Change, by: str, at: datetime) -> Envelope:
    return wrap(ChangeRejected(change_id=c.change_id, rejected_by=by,
                               reason=c.decision or "rejected", rejected_at=at),
                c.change_id, at)


def started(c: Change, actor: str, at: datetime) -> Envelope:
    return wrap(ChangeStarted(change_id=c.change_id, type=c.type,  # type: ignore[arg-type]
                              title=c.title, services=c.services,
                              silence_ids=c.silence_ids, started_at=at, actor=actor),
                c.change_id, at)


def completed(c: Change, actor: str, at: datetime) -> Envelope:
    return wrap(ChangeCompleted(change_id=c.change_id, type=c.type,  # type: ignore[arg-type]
                                outcome=c.outcome,  # type: ignore[arg-type]
                                note=c.note, completed_at=at, actor=actor), c.change_id, at)


def cancelled(c: Change, reason: str, actor: str, at: datetime) -> Envelope:
    return wrap(ChangeCancelled(change_id=c.change_id, reason=reason, cancelled_at=at,
                                actor=actor), c.change_id, at)


def reviewed(c: Change, accepted: bool, note: str | None, at: datetime) -> Envelope:
    return wrap(ChangeReviewed(change_id=c.change_id, reviewed_by=c.reviewed_by or "",
                               accepted=accepted, note=note, reviewed_at=at), c.change_id, at)


def linked(change_id: str, incident_id: str, service: str, reason: str, at: datetime
           ) -> Envelope:
    return wrap(ChangeIncidentLinked(change_id=change_id, incident_id=incident_id,
                                     service=service, reason=reason, linked_at=at),
                change_id, at)
