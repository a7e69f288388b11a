"""Change management: change requests (standard, normal, emergency) with their risk,
planned window, affected services and plans; approval (a template, a change advisory
board through the orchestrator, or after the fact for an emergency); the calendar with
freezes and conflicts; implementation (a maintenance window on the affected services),
outcome, and the incidents that followed."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, model_validator

from . import subjects
from .ids import MONTH_PATTERN
from .messages import Actor, Command, Event, Query, View

CHANGE_ID_PATTERN = r"^CHG\d{7,}$"
ChangeId = Annotated[str, Field(pattern=CHANGE_ID_PATTERN)]
ChangeType = Literal["standard", "normal", "emergency"]
ChangeState = Literal["requested", "approved", "rejected", "implementing", "completed",
                      "cancelled"]
"""``requested``: waiting for the advisory board (normal changes); standard and
emergency changes are approved when requested."""
Outcome = Literal["successful", "failed", "backed_out"]
Risk = Literal["low", "medium", "high"]
ServiceName = Annotated[str, Field(min_length=1, max_length=256)]


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


class RequestChange(Command):
    """Ask for a change. A standard change names a pre-approved template and is approved
    at once; a normal one waits for the advisory board; an emergency one is approved at
    once and reviewed afterwards. Refused, with the reason, when the window overlaps
    another change on one of the services, or a freeze (an emergency may go into a
    freeze). Takes ``change.request``."""

    SUBJECT = subjects.CHANGE_CMD_REQUEST

    actor: Actor = ""
    type: ChangeType
    title: str | None = Field(default=None, min_length=1, max_length=256, description=(
        "Required, but for a standard change (the template's)"))
    description: str | None = Field(default=None, max_length=8192)
    services: list[ServiceName] = Field(default_factory=list, max_length=50, description=(
        "Affected services, from the catalog (a standard change: the template's unless "
        "given)"))
    impact: int = Field(default=3, ge=1, le=3, description="1 widespread .. 3 one team")
    planned_start: datetime
    planned_end: datetime | None = Field(default=None, description=(
        "Required, but for a standard change (start + the template's duration)"))
    implementation_plan: str | None = Field(default=None, max_length=8192)
    backout_plan: str | None = Field(default=None, max_length=8192)
    template: str | None = Field(default=None, min_length=1, max_length=64)

    @model_validator(mode="after")
    def _whole(self) -> RequestChange:
        if self.type == "standard":
            if self.template is None:
                raise ValueError("template: a standard change names its template")
        else:
            if self.template is not None:
                raise ValueError("template: only a standard change has one")
            for name in ("title", "planned_end", "implementation_plan"):
                if getattr(self, name) is None:
                    raise ValueError(f"{name}: required for a {self.type} change")
            if not self.services:
                raise ValueError("services: name at least one affected service")
        if self.planned_end is not None and self.planned_end <= self.planned_start:
            raise ValueError("planned_end: must be after planned_start")
        return self


class _ChangeCommand(Command):
    change_id: ChangeId
    actor: Actor = ""
    note: str | None = Field(default=None, max_length=4096)


class ApproveChange(_ChangeCommand):
    """The advisory board approved (sent by its workflow). Takes ``change.approve``."""

    SUBJECT = subjects.CHANGE_CMD_APPROVE

    approvers: list[str] = Field(default_factory=list, max_length=20)


class RejectChange(_ChangeCommand):
    """The advisory board rejected (sent by its workflow). Takes ``change.approve``."""

    SUBJECT = subjects.CHANGE_CMD_REJECT

    rejected_by: str | None = Field(default=None, max_length=160)


class StartChange(_ChangeCommand):
    """Begin implementing an approved change, within its window (an emergency: at any
    time): its services get a maintenance window until its planned end. Takes
    ``change.implement``."""

    SUBJECT = subjects.CHANGE_CMD_START


class CompleteChange(_ChangeCommand):
    """The change is done, with its outcome; the maintenance window ends. Takes
    ``change.implement``."""

    SUBJECT = subjects.CHANGE_CMD_COMPLETE

    outcome: Outcome


class CancelChange(_ChangeCommand):
    """Withdraw a change not yet implementing. Takes ``change.request``."""

    SUBJECT = subjects.CHANGE_CMD_CANCEL


class ReviewChange(_ChangeCommand):
    """Record the review an emergency change owes (sent by its workflow). Takes
    ``change.approve``."""

    SUBJECT = subjects.CHANGE_CMD_REVIEW

    accepted: bool = True
    reviewed_by: str | None = Field(default=None, max_length=160)


class ListChanges(Query):
    SUBJECT = subjects.CHANGE_QUERY_LIST

    actor: Actor = ""
    states: list[ChangeState] | None = None
    service: str | None = Field(default=None, max_length=256)
    incident_id: str | None = Field(default=None, max_length=32, description=(
        "Changes this incident is linked to"))
    limit: int = Field(default=100, ge=1, le=1000)


class GetChange(Query):
    SUBJECT = subjects.CHANGE_QUERY_GET

    actor: Actor = ""
    change_id: ChangeId


class GetChangeCalendar(Query):
    """Changes and freezes with a window between ``start`` and ``end`` (default: the
    next 14 days)."""

    SUBJECT = subjects.CHANGE_QUERY_CALENDAR

    actor: Actor = ""
    start: datetime | None = None
    end: datetime | None = None
    service: str | None = Field(default=None, max_length=256)


class GetChangeMetrics(Query):
    """Change success rate, change-caused incident rate and emergency change ratio of a
    month (changes completed in it)."""

    SUBJECT = subjects.CHANGE_QUERY_METRICS

    actor: Actor = ""
    month: str = Field(pattern=MONTH_PATTERN, description="YYYY-MM")


class LinkedIncident(View):
    incident_id: str
    service: str
    linked_at: datetime
    reason: str


class ChangeView(View):
    change_id: str
    type: ChangeType
    state: ChangeState
    title: str
    description: str | None = None
    services: list[str]
    risk: Risk
    risk_reason: str
    impact: int
    planned_start: datetime
    planned_end: datetime
    implementation_plan: str | None = None
    backout_plan: str | None = None
    template: str | None = None
    requested_by: str
    requested_at: datetime
    approved_by: list[str] = Field(default_factory=list)
    decided_at: datetime | None = None
    decision: str | None = Field(default=None, description="Why approved or rejected")
    started_at: datetime | None = None
    completed_at: datetime | None = None
    outcome: Outcome | None = None
    note: str | None = None
    silence_ids: list[str] = Field(default_factory=list)
    review_due: bool = Field(default=False, description="An emergency change not yet "
                             "reviewed")
    reviewed_by: str | None = None
    incidents: list[LinkedIncident] = Field(default_factory=list)


class ChangeList(View):
    items: list[ChangeView]


class FreezeView(View):
    name: str
    start: datetime
    end: datetime
    services: list[str] = Field(description="Empty: every service")
    reason: str = ""


class TemplateView(View):
    name: str
    title: str
    services: list[str]
    duration_minutes: int
    implementation_plan: str
    backout_plan: str


class ChangeCalendar(View):
    start: datetime
    end: datetime
    changes: list[ChangeView]
    freezes: list[FreezeView]
    templates: list[TemplateView] = Field(default_factory=list)


class ChangeMetrics(View):
    month: str
    completed: int
    successful: int
    success_rate: float | None = Field(description="Successful / completed; None: none")
    emergency: int
    emergency_ratio: float | None = Field(description="Emergency / completed")
    caused_incidents: int = Field(description="Incidents linked to the month's changes")
    changes_with_incidents: int
    change_caused_incident_rate: float | None = Field(description=(
        "Completed changes followed by an incident / completed"))
