"""Incidents: lifecycle events, commands and queries."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from . import subjects
from .ingest import Severity
from .messages import Actor, Command, Event, Query, View

IncidentState = Literal["new", "acknowledged", "on_hold", "resolved", "closed"]
"""``on_hold``: waiting on the caller or a supplier; SLA clocks with a pause condition stop."""
INCIDENT_ID_PATTERN = r"^INC\d{7,}$"


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


def _link(value: str) -> str:
    if not value.startswith(("https://", "http://")) or len(value) > 2048 \
            or any(c.isspace() for c in value):
        raise ValueError(f"{value[:80]!r} is not an http(s) link")
    return value


Link = Annotated[str, AfterValidator(_link)]
"""An http(s) link."""


def _said(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


Said = Annotated[str, AfterValidator(_said)]
"""Text that says something (not only spaces)."""


class CreateIncident(Command):
    """Open an incident by hand, as a service desk does for a call: priority from the
    ITIL matrix of impact and urgency; then the same lifecycle, SLA clocks, triage and
    workflows as an incident opened from monitoring. Takes ``incident.create``."""

    SUBJECT = subjects.INCIDENT_CMD_CREATE

    actor: Actor = ""
    title: str = Field(min_length=1, max_length=512)
    description: str | None = Field(default=None, max_length=8192)
    service: str | None = Field(default=None, min_length=1, max_length=256)
    resource: str | None = Field(default=None, max_length=256)
    category: str | None = Field(default=None, max_length=64)
    impact: int = Field(default=3, ge=1, le=3, description="1 (widespread) .. 3")
    urgency: int = Field(default=3, ge=1, le=3, description="1 (now) .. 3")
    caller: str | None = Field(default=None, max_length=256,
                               description="Who reported it")
    assignment_group: str | None = Field(default=None, min_length=1, max_length=128,
                                         description="Default: the service's owner")
    attachments: list[Link] = Field(default_factory=list, max_length=20, description=(
        "Links (http or https) to screenshots, logs, documents"))


class _IncidentCommand(Command):
    incident_id: str = Field(pattern=INCIDENT_ID_PATTERN)
    actor: Actor = ""
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


# -- Escalation and major incidents -------------------------------------------------------

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


class AssignIncident(_IncidentCommand):
    """Assign to a group by hand (highest precedence); ``note`` is the reason."""

    SUBJECT = subjects.INCIDENT_CMD_ASSIGN

    assignment_group: str = Field(min_length=1, max_length=128)


class ChangeIncidentPriority(_IncidentCommand):
    """Reassess impact and urgency by hand; the priority follows the ITIL matrix and
    ``note`` is the reason, kept on the timeline. Takes ``incident.change_priority``."""

    SUBJECT = subjects.INCIDENT_CMD_CHANGE_PRIORITY

    impact: int = Field(ge=1, le=3)
    urgency: int = Field(ge=1, le=3)
    note: str = Field(min_length=1, max_length=4096, description="Why")


class CommentIncident(_IncidentCommand):
    """Add a comment to the timeline; ``note`` is the comment."""

    SUBJECT = subjects.INCIDENT_CMD_COMMENT

    note: Said = Field(min_length=1, max_length=4096)


class IncidentCommented(Event):
    """A comment on the incident's timeline (by a person, or from a synced tool)."""

    SUBJECT = subjects.INCIDENT_COMMENTED

    incident_id: str
    commented_at: datetime
    actor: str
    note: str


class DeclareMajorIncident(_IncidentCommand):
    SUBJECT = subjects.INCIDENT_CMD_DECLARE_MAJOR


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


# -- Correlation rules ----------------------------------------------------------------------

class GetCorrelationRules(Query):
    SUBJECT = subjects.INCIDENT_QUERY_RULES

    actor: Actor = ""  # set by the answering service to the proven principal


class RuleView(View):
    name: str
    match: list[str]
    group_by: list[str]
    window_seconds: int
    create_on: str
    resolve_on: str
    assign_to: str | None = None


class CorrelationRulesView(View):
    path: str | None = Field(description="The rule file, None for the built-in default")
    loaded_at: datetime | None = None
    rules: list[RuleView]
    assignment_precedence: list[str]
    escalation_policies: dict[str, list[str]]
    error: str | None = Field(default=None,
                              description="Why the file on disk was refused; older rules apply")


# -- Problems -------------------------------------------------------------------------------

ProblemState = Literal["new", "investigating", "known_error", "resolved"]
PROBLEM_ID_PATTERN = r"^PRB\d{7,}$"


class ProblemOpened(Event):
    SUBJECT = subjects.PROBLEM_OPENED

    problem_id: str
    title: str
    group_key: str
    service: str | None = None
    incident_ids: list[str]
    opened_at: datetime
    reason: str


class ProblemUpdated(Event):
    SUBJECT = subjects.PROBLEM_UPDATED

    problem_id: str
    state: ProblemState
    previous_state: ProblemState
    workaround: str | None = None
    updated_at: datetime
    actor: str
    note: str | None = None


class UpdateProblem(Command):
    """Move a problem on: investigating, known_error (needs a workaround), resolved."""

    SUBJECT = subjects.PROBLEM_CMD_UPDATE

    problem_id: str = Field(pattern=PROBLEM_ID_PATTERN)
    state: ProblemState
    workaround: str | None = Field(default=None, max_length=8192)
    actor: Actor = ""
    note: str | None = Field(default=None, max_length=4096)


class ListProblems(Query):
    SUBJECT = subjects.PROBLEM_QUERY_LIST

    actor: Actor = ""  # set by the answering service to the proven principal

    states: list[ProblemState] | None = None
    limit: int = Field(default=100, ge=1, le=1000)


class GetProblem(Query):
    SUBJECT = subjects.PROBLEM_QUERY_GET

    actor: Actor = ""  # set by the answering service to the proven principal

    problem_id: str = Field(pattern=PROBLEM_ID_PATTERN)


class ProblemView(View):
    problem_id: str
    title: str
    state: ProblemState
    group_key: str
    service: str | None = None
    workaround: str | None = None
    opened_at: datetime
    updated_at: datetime
    resolved_at: datetime | None = None
    incident_ids: list[str] = Field(default_factory=list)
    history: list[TimelineEntry] = Field(default_factory=list)


class ProblemList(View):
    items: list[ProblemView]


# -- Silences and maintenance windows ------------------------------------------------------

SilenceKind = Literal["silence", "maintenance"]
SILENCE_ID_PATTERN = r"^SIL\d{7,}$"
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class RecurringSchedule(View):
    """Every listed weekday from ``start`` (HH:MM, UTC) for ``duration_seconds``."""

    days: list[Weekday] = Field(min_length=1)
    start: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    duration_seconds: int = Field(gt=0, le=7 * 86400)


class CreateSilence(Command):
    """Matching alerts are recorded but open nothing and page no one while it is active."""

    SUBJECT = subjects.SILENCE_CMD_CREATE
    PRINCIPAL_FIELD = "author"

    kind: SilenceKind = "silence"
    matchers: list[str] = Field(min_length=1, description='e.g. "service=checkout", '
                                '"alertname=~Disk.*", "severity!=info"')
    starts_at: datetime | None = Field(default=None, description="Default: now")
    ends_at: datetime | None = Field(default=None, description="Required unless recurring")
    schedule: RecurringSchedule | None = None
    until: datetime | None = Field(default=None, description="A recurring window's last day")
    author: Actor = ""
    reason: str = Field(min_length=1, max_length=1024)


class ExpireSilence(Command):
    SUBJECT = subjects.SILENCE_CMD_EXPIRE

    silence_id: str = Field(pattern=SILENCE_ID_PATTERN)
    actor: Actor = ""


class ListSilences(Query):
    SUBJECT = subjects.SILENCE_QUERY_LIST

    actor: Actor = ""  # set by the answering service to the proven principal

    include_expired: bool = False


class GetSilence(Query):
    SUBJECT = subjects.SILENCE_QUERY_GET

    actor: Actor = ""  # set by the answering service to the proven principal

    silence_id: str = Field(pattern=SILENCE_ID_PATTERN)


class GetCoveringSilence(Query):
    """The silence or maintenance window that covers an incident now, if any (what a
    page or an escalation due now waits for)."""

    SUBJECT = subjects.SILENCE_QUERY_COVERING

    actor: Actor = ""
    incident_id: str = Field(pattern=INCIDENT_ID_PATTERN)


class CoveringSilence(View):
    incident_id: str
    silence_id: str | None = Field(default=None, description="None: nothing covers it")
    kind: SilenceKind | None = None
    until: datetime | None = Field(default=None, description="When the window ends; None: "
                                   "open-ended (until expired by hand)")


class SilencedAlert(View):
    fingerprint: str
    name: str | None = None
    service: str | None = None
    resource: str | None = None
    status: str
    last_seen_at: datetime


class SilenceView(View):
    silence_id: str
    kind: SilenceKind
    matchers: list[str]
    starts_at: datetime
    ends_at: datetime | None = None
    schedule: RecurringSchedule | None = None
    until: datetime | None = None
    author: str
    reason: str
    created_at: datetime
    expired_at: datetime | None = None
    state: Literal["pending", "active", "expired"]
    matched_alerts: int = 0
    alerts: list[SilencedAlert] = Field(default_factory=list)


class SilenceList(View):
    items: list[SilenceView]
