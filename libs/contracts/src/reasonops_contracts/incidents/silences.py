"""Silences and maintenance windows: alerts expected, not incidents."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from .. import subjects
from ..messages import Actor, Command, Query, View
from .fields import INCIDENT_ID_PATTERN

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
