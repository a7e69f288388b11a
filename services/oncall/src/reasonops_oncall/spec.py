"""The on-call file's shape, as pydantic models: what ``config`` validates the YAML with
(names, time zones, hours, durations checked as they are read)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from reasonops_runtime.durations import parse_duration

CONTACT_KINDS = ("email", "sms", "voice", "slack", "teams", "webhook", "pagerduty")
_NAME = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
_HOURS = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]|24):([0-5]\d)$")


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (an IANA name: Europe/Berlin)"
                         ) from None
    return value


def _hours(value: str) -> str:
    if not _HOURS.match(value):
        raise ValueError(f"{value!r} is not HH:MM-HH:MM")
    return value


def _after(value: str) -> str:
    try:
        parse_duration(value, zero=True)
    except ValueError as exc:
        raise ValueError(str(exc)) from None
    return value


def _length(value: str) -> str:
    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        raise ValueError(str(exc)) from None
    if seconds < 3600:
        raise ValueError(f"{value!r}: a turn lasts an hour or more")
    return value


Zone = Annotated[str, AfterValidator(_zone)]
Name = Annotated[str, Field(pattern=_NAME)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ContactSpec(_Strict):
    kind: Literal["email", "sms", "voice", "slack", "teams", "webhook", "pagerduty"]
    address: str = Field(min_length=1, max_length=512)


class RuleSpec(_Strict):
    contact: Literal["email", "sms", "voice", "slack", "teams", "webhook", "pagerduty"]
    after: Annotated[str, AfterValidator(_after)] = "0s"


class NotifySpec(_Strict):
    high: list[RuleSpec] | None = None
    low: list[RuleSpec] | None = None


class UserSpec(_Strict):
    name: str = Field(default="", max_length=128)
    time_zone: Zone = "UTC"
    contacts: list[ContactSpec] = Field(default_factory=list)
    notify: NotifySpec = Field(default_factory=NotifySpec)


class TeamSpec(_Strict):
    members: list[Name] = Field(min_length=1)


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_EVERY_DAY: list[Weekday] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class RestrictSpec(_Strict):
    days: list[Weekday] = Field(default_factory=lambda: list(_EVERY_DAY), min_length=1)
    hours: Annotated[str, AfterValidator(_hours)] | None = None


class LayerSpec(_Strict):
    name: str = Field(min_length=1, max_length=64)
    rotation: Literal["daily", "weekly", "custom"]
    length: Annotated[str, AfterValidator(_length)] | None = None
    start: datetime
    users: list[Name] = Field(min_length=1)
    restrict: RestrictSpec | None = None


class OverrideSpec(_Strict):
    user: Name
    start: datetime
    end: datetime
    reason: str = Field(default="", max_length=256)


class ScheduleSpec(_Strict):
    team: Name | None = None
    time_zone: Zone = "UTC"
    layers: list[LayerSpec] = Field(min_length=1)
    overrides: list[OverrideSpec] = Field(default_factory=list)


class TargetSpec(_Strict):
    schedule: Name | None = None
    user: Name | None = None
    team: Name | None = None


class LevelSpec(_Strict):
    after: Annotated[str, AfterValidator(_after)] = "0s"
    notify: list[TargetSpec] = Field(min_length=1)


class PolicySpec(_Strict):
    team: Name | None = None
    services: list[str] = Field(default_factory=list)
    repeat: int = Field(default=0, ge=0, le=9)
    levels: list[LevelSpec] = Field(min_length=1, max_length=10)


class MajorSpec(_Strict):
    notify: list[TargetSpec] = Field(default_factory=list)
    announce: list[ContactSpec] = Field(default_factory=list)


class OnCallSpec(_Strict):
    users: dict[Name, UserSpec] = Field(default_factory=dict)
    teams: dict[Name, TeamSpec] = Field(default_factory=dict)
    schedules: dict[Name, ScheduleSpec] = Field(default_factory=dict)
    services: dict[str, Name] = Field(default_factory=dict)
    escalation_policies: dict[Name, PolicySpec] = Field(default_factory=dict)
    major_incident: MajorSpec | None = None
