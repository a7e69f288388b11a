"""On call: schedules of people taking turns, overrides, and who carries the pager."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from . import subjects
from .messages import Actor, Command, Event, Query, View

SCHEDULE_NAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
OVERRIDE_ID_PATTERN = r"^OVR\d{7,}$"
ContactKind = Literal["email", "sms", "voice", "slack", "teams", "webhook", "pagerduty"]
MAX_SPAN_DAYS = 92


class ContactView(View):
    kind: ContactKind
    address: str


class PersonView(View):
    user: str
    name: str
    time_zone: str
    contacts: list[ContactView] = Field(default_factory=list)


class WhoIsOnCall(Query):
    """Who is on call for a schedule, or for a service (its own schedule, else its
    owning team's), now or at ``at``."""

    SUBJECT = subjects.ONCALL_QUERY_WHO

    actor: Actor = ""
    schedule: str | None = Field(default=None, pattern=SCHEDULE_NAME_PATTERN)
    service: str | None = Field(default=None, min_length=1, max_length=256)
    at: datetime | None = Field(default=None, description="Default: now")

    @model_validator(mode="after")
    def _one_of(self) -> WhoIsOnCall:
        if (self.schedule is None) == (self.service is None):
            raise ValueError("schedule or service: give exactly one of them")
        return self


class OnCallNow(View):
    schedule: str
    team: str | None = None
    at: datetime
    person: PersonView | None = Field(description="None: a gap, nobody is on call")
    layer: str | None = Field(default=None, description="The layer, or 'override'")
    since: datetime | None = None
    until: datetime | None = None


class GetShifts(Query):
    """A schedule's turns from ``start`` to ``end`` (default: now and two weeks on), and
    its gaps."""

    SUBJECT = subjects.ONCALL_QUERY_SHIFTS

    actor: Actor = ""
    schedule: str = Field(pattern=SCHEDULE_NAME_PATTERN)
    start: datetime | None = None
    end: datetime | None = None

    @field_validator("end")
    @classmethod
    def _span(cls, end: datetime | None, info: ValidationInfo) -> datetime | None:
        return _after(info.data.get("start"), end)


def _after(start: datetime | None, end: datetime | None) -> datetime | None:
    if start is not None and end is not None:
        if end <= start:
            raise ValueError("must be after start")
        if (end - start).days > MAX_SPAN_DAYS:
            raise ValueError(f"at most {MAX_SPAN_DAYS} days after start")
    return end


class ShiftView(View):
    start: datetime
    end: datetime
    user: str | None = Field(description="None: a gap")
    layer: str | None = None


class ShiftList(View):
    schedule: str
    time_zone: str
    start: datetime
    end: datetime
    shifts: list[ShiftView]
    gaps: list[ShiftView]
    calendar: str = Field(default="", description="The shifts as iCalendar (RFC 5545)")


class LayerView(View):
    name: str
    rotation: str = Field(description="every N days, or every N hours")
    users: list[str]
    start: str = Field(description="The first hand-off, wall-clock time in the zone")
    restriction: str | None = None


class OverrideView(View):
    override_id: str
    schedule: str
    user: str
    start: datetime
    end: datetime
    reason: str = ""
    created_by: str = ""
    created_at: datetime | None = None
    source: Literal["file", "command"] = "command"


class ScheduleView(View):
    name: str
    team: str | None
    time_zone: str
    layers: list[LayerView]
    overrides: list[OverrideView]
    services: list[str] = Field(description="Services whose schedule this is by name")
    on_call: OnCallNow
    gaps_next_14_days: int


class ListSchedules(Query):
    SUBJECT = subjects.ONCALL_QUERY_SCHEDULES

    actor: Actor = ""


class ScheduleList(View):
    items: list[ScheduleView]
    people: list[PersonView] = Field(default_factory=list)
    loaded_at: datetime | None = None
    error: str | None = Field(default=None, description="Why the last change of the file "
                              "was refused (the previous one stays in force)")


class CreateOverride(Command):
    """``user`` takes the schedule from ``start`` to ``end`` whatever its layers say
    ("I take Tuesday night"). Takes ``oncall.override``."""

    SUBJECT = subjects.ONCALL_CMD_OVERRIDE

    actor: Actor = ""
    schedule: str = Field(pattern=SCHEDULE_NAME_PATTERN)
    user: str = Field(min_length=1, max_length=64)
    start: datetime
    end: datetime
    reason: str = Field(default="", max_length=256)

    @field_validator("start", "end")
    @classmethod
    def _offset(cls, value: datetime, info: ValidationInfo) -> datetime:
        if value.tzinfo is None:
            raise ValueError("give the time with its offset (2026-12-08T20:00+01:00)")
        if info.field_name == "end":
            _after(info.data.get("start"), value)
        return value


class RemoveOverride(Command):
    """Takes ``oncall.override``."""

    SUBJECT = subjects.ONCALL_CMD_REMOVE_OVERRIDE

    actor: Actor = ""
    override_id: str = Field(pattern=OVERRIDE_ID_PATTERN)


class OverrideCreated(Event):
    SUBJECT = subjects.ONCALL_OVERRIDE_CREATED

    override: OverrideView


class OverrideRemoved(Event):
    SUBJECT = subjects.ONCALL_OVERRIDE_REMOVED

    override: OverrideView
    removed_by: str
    removed_at: datetime


Urgency = Literal["high", "low"]
NotificationOutcome = Literal["delivered", "retrying", "failed"]


class IncidentPaged(Event):
    """A level of an escalation policy paged these people for an incident (each is then
    notified by their own rules: ``NotificationSent``)."""

    SUBJECT = subjects.ONCALL_PAGED

    incident_id: str
    policy: str
    level: int = Field(ge=1, description="1: the first level")
    cycle: int = Field(ge=1, description="1: the first time through the levels")
    users: list[str] = Field(description="Empty: nobody was on call for it (a gap)")
    urgency: Urgency
    paged_at: datetime


class NotificationSent(Event):
    """One notification to one person by one channel, and how it went (the address is
    not in the event: it is the person's, in the on-call file)."""

    SUBJECT = subjects.ONCALL_NOTIFICATION

    incident_id: str
    user: str
    channel: ContactKind
    level: int
    attempt: int = Field(ge=1)
    outcome: NotificationOutcome
    detail: str = ""
    sent_at: datetime


class PagingStopped(Event):
    """Nobody more is paged for the incident: it was acknowledged, resolved or closed."""

    SUBJECT = subjects.ONCALL_PAGING_STOPPED

    incident_id: str
    reason: str
    actor: str | None = None
    stopped_at: datetime


PageActionKind = Literal["acknowledge", "resolve", "escalate"]


class ActFromPage(Command):
    """What a paged person does from the link in the page: the link is the credential
    (signed by the on-call service for that person and incident, expiring, good once);
    the action is taken as that person."""

    SUBJECT = subjects.ONCALL_CMD_ACT

    actor: Actor = ""  # the sender (the gateway); the link names who acts
    token: str = Field(min_length=16, max_length=1024)
    action: PageActionKind


class PageAction(View):
    incident_id: str
    user: str
    action: PageActionKind
    done: str


class PageActedOn(Event):
    SUBJECT = subjects.ONCALL_PAGE_ACTED_ON

    incident_id: str
    user: str
    action: PageActionKind
    acted_at: datetime


class PageDeferred(Event):
    """A level due now waits: a silence or maintenance window covers the incident."""

    SUBJECT = subjects.ONCALL_PAGE_DEFERRED

    incident_id: str
    level: int
    silence_id: str
    until: datetime
    deferred_at: datetime
