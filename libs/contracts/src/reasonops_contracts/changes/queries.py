"""Changes: the queries that read them (one, a list, the calendar, the metrics) and
the views they answer with."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from .. import subjects
from ..ids import MONTH_PATTERN
from ..messages import Actor, Query, View
from .fields import ChangeId, ChangeState, ChangeType, Outcome, Risk


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
