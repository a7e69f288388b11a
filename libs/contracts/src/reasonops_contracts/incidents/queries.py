"""Incidents: the queries that read them and the views they answer with."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from .. import subjects
from ..ingest import Severity
from ..messages import Actor, Query, View
from .fields import INCIDENT_ID_PATTERN, IncidentState

IncidentSort = Literal["opened_at", "updated_at", "priority", "alert_count"]


class ListIncidents(Query):
    SUBJECT = subjects.INCIDENT_QUERY_LIST

    actor: Actor = ""  # answered with what the actor's roles cover
    states: list[IncidentState] | None = None
    service: str | None = None
    limit: int = Field(default=100, ge=1, le=1000)
    priorities: list[int] | None = Field(default=None, description="1..5")
    assignment_group: str | None = None
    opened_from: datetime | None = Field(default=None, description="Opened at or after")
    opened_to: datetime | None = Field(default=None, description="Opened before")
    text: str | None = Field(default=None, min_length=1, max_length=256,
                             description="Substring of title, service, resource or number")
    major: bool | None = None
    problem_id: str | None = None
    offset: int = Field(default=0, ge=0)
    sort: IncidentSort = "opened_at"
    descending: bool = True


class GetIncident(Query):
    SUBJECT = subjects.INCIDENT_QUERY_GET

    actor: Actor = ""  # answered with what the actor's roles cover
    incident_id: str = Field(pattern=INCIDENT_ID_PATTERN)


class ProbableCause(View):
    """A failing dependency that likely explains the incident."""

    service: str
    incident_id: str | None = Field(default=None, description="The dependency's own incident")
    alert: str | None = None
    resource: str | None = None
    fingerprint: str | None = None
    detected_at: datetime
    reason: str


TimelineKind = Literal[
    "opened", "alert_joined", "alert_silenced", "flapping", "state_changed",
    "priority_changed", "assigned", "escalated", "escalation_suppressed", "major_declared",
    "comment", "agent_decision", "sla", "probable_cause", "problem_linked", "access_denied",
    "paged",
]


class TimelineEntry(View):
    at: datetime
    actor: str = Field(description="A user, a service (incidents, slm) or an agent (agent:triage)")
    kind: TimelineKind
    detail: str
    data: dict[str, str] = Field(default_factory=dict)


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
    rule: str | None = None
    group_key: str | None = None
    assignment_group: str | None = None
    assignment_source: str | None = None
    major: bool = False
    escalation_level: int = 1
    firing_alerts: int = 0
    last_alert_at: datetime | None = None
    probable_cause: ProbableCause | None = None
    problem_id: str | None = None
    resources: list[str] = Field(default_factory=list, description=(
        "Every resource the incident's alerts are on (shown for one incident, not in "
        "lists): alerts the sender grouped are one incident over several resources"))
    timeline: list[TimelineEntry] = Field(default_factory=list)


class IncidentList(View):
    items: list[IncidentView]
    total: int | None = Field(default=None, description="Matches before offset and limit")
    offset: int = 0


class CountIncidents(Query):
    """Counts for dashboards, with the same filters as the list."""

    SUBJECT = subjects.INCIDENT_QUERY_COUNTS

    actor: Actor = ""  # answered with what the actor's roles cover
    service: str | None = None
    assignment_group: str | None = None
    opened_from: datetime | None = None
    opened_to: datetime | None = None


class IncidentCounts(View):
    total: int
    by_state: dict[str, int]
    by_priority: dict[str, int] = Field(description="P1..P5")
    open_by_priority: dict[str, int] = Field(description="new, acknowledged or on hold")
