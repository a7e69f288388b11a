"""The on-call file (``REASONOPS_ONCALL``), validated with errors naming file, line,
field and reason, and reloaded when it changes (a refused file leaves the previous one
in force)::

    users:
      ana:
        name: Ana Silva
        time_zone: Europe/Lisbon
        contacts:
          - {kind: sms, address: "+351900000001"}
          - {kind: email, address: ana@example.com}
    teams:
      payments: {members: [ana, bo]}
    schedules:
      payments-primary:
        team: payments
        time_zone: Europe/Berlin     # the rotations' zone: hand-offs follow its wall clock
        layers:                      # may not overlap; where none covers, a gap
          - name: business hours
            rotation: weekly         # daily, weekly, or custom with a length (12h, 3d)
            start: 2026-11-02T09:00  # the first hand-off, wall-clock time in the zone
            users: [ana, bo]
            restrict: {days: [mon, tue, wed, thu, fri], hours: "09:00-17:00"}
          - name: nights and weekends
            rotation: daily
            start: 2026-11-02T17:00
            users: [bo, ana]
            restrict: {days: [mon, tue, wed, thu, fri], hours: "17:00-09:00"}
          - name: weekends             # 09:00-09:00: a whole day from 09:00
            rotation: weekly
            start: 2026-11-07T09:00
            users: [bo, ana]
            restrict: {days: [sat, sun], hours: "09:00-09:00"}
        overrides:
          - {user: bo, start: 2026-12-08T20:00, end: 2026-12-09T08:00, reason: swap}
    services:
      checkout: payments-primary     # else the first schedule of the service's owner
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from reasonops_runtime.durations import parse_duration
from reasonops_runtime.yaml_source import SourceError, dotted, line_of, read_mapping

from .rotation import (
    WEEKDAYS,
    Contact,
    EscalationPolicy,
    Layer,
    Level,
    Major,
    Override,
    Person,
    Restriction,
    Roster,
    Rule,
    Schedule,
    Target,
    a_week,
    overlap,
)

log = logging.getLogger(__name__)
CONTACT_KINDS = ("email", "sms", "voice", "slack", "teams", "webhook", "pagerduty")
_NAME = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
_HOURS = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]|24):([0-5]\d)$")


class OnCallError(SourceError):
    """The on-call file is wrong: which file, which line and field, and why."""


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


def parse(text: str, file: str) -> Roster:
    """Validate the file's text into a ``Roster``."""
    root, data = read_mapping(text, file, OnCallError, "a mapping with users, teams and "
                              "schedules")
    try:
        spec = OnCallSpec.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = [p for p in error["loc"] if isinstance(p, int | str) and not
               (isinstance(p, str) and p.startswith(("function-", "literal[")))]
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = f"unknown key {loc[-1]!r}" if loc else message
        raise OnCallError(file, line_of(root, loc), dotted(loc) or "(file)", message) from None
    return _build(spec, file, lambda loc: line_of(root, loc))


def _build(spec: OnCallSpec, file: str, line: Callable[[list[Any]], int | None]) -> Roster:
    def refuse(loc: list[Any], reason: str) -> OnCallError:
        return OnCallError(file, line(loc), dotted(loc), reason)

    def known(user: str, loc: list[Any]) -> str:
        if user not in spec.users:
            raise refuse(loc, f"unknown user {user!r} (define it under users)")
        return user

    people = {key: _person(key, u, ["users", key], refuse) for key, u in spec.users.items()}
    teams = {name: tuple(known(m, ["teams", name, "members", i])
                         for i, m in enumerate(t.members)) for name, t in spec.teams.items()}
    schedules = {}
    week = a_week()
    for name, s in spec.schedules.items():
        where = ["schedules", name]
        if s.team is not None and s.team not in teams:
            raise refuse([*where, "team"], f"unknown team {s.team!r} (define it under teams)")
        zone = ZoneInfo(s.time_zone)
        layers: list[Layer] = []
        for i, spec_layer in enumerate(s.layers):
            loc = [*where, "layers", i]
            layer = _layer(spec_layer, zone, loc, refuse, known)
            for earlier in layers:
                if (minute := overlap(earlier, layer, week)) is not None:
                    raise refuse([*loc, "restrict"], (
                        f"overlaps layer {earlier.name!r} ({WEEKDAYS[minute.weekday()]} "
                        f"{minute:%H:%M}); layers of a schedule take separate times, and "
                        f"an override takes precedence"))
            layers.append(layer)
        overrides = []
        for i, o in enumerate(s.overrides):
            loc = [*where, "overrides", i]
            start, end = _aware(o.start, zone), _aware(o.end, zone)
            if end <= start:
                raise refuse([*loc, "end"], "must be after start")
            overrides.append(Override(f"{name}#{i}", known(o.user, [*loc, "user"]), start,
                                      end, o.reason))
        schedules[name] = Schedule(name, s.team, zone, tuple(layers), tuple(overrides))
    for service, schedule in spec.services.items():
        if schedule not in schedules:
            raise refuse(["services", service], f"unknown schedule {schedule!r}")
    names = {"schedule": set(schedules), "user": set(people), "team": set(teams)}
    policies = {}
    for name, p in spec.escalation_policies.items():
        where = ["escalation_policies", name]
        if p.team is not None and p.team not in teams:
            raise refuse([*where, "team"], f"unknown team {p.team!r}")
        if p.team is None and not p.services:
            raise refuse(where, "name the team whose services it covers, or its services")
        levels = [Level(timedelta(seconds=parse_duration(level.after, zero=True)),
                        _targets(level.notify, [*where, "levels", i], names, refuse))
                  for i, level in enumerate(p.levels)]
        if levels[0].after:
            raise refuse([*where, "levels", 0, "after"], "the first level pages at once (0s)")
        policies[name] = EscalationPolicy(name, p.team, tuple(p.services), p.repeat,
                                          tuple(levels))
    major = None
    if spec.major_incident is not None:
        major = Major(_targets(spec.major_incident.notify, ["major_incident"], names, refuse),
                      tuple(Contact(c.kind, c.address) for c in spec.major_incident.announce))
    return Roster(people, teams, schedules, dict(spec.services), policies, major)


def _targets(given: list[TargetSpec], where: list[Any], names: dict[str, set[str]],
             refuse: Callable[[list[Any], str], OnCallError]) -> tuple[Target, ...]:
    found = []
    for j, t in enumerate(given):
        loc = [*where, "notify", j]
        named = [(k, v) for k, v in (("schedule", t.schedule), ("user", t.user),
                                     ("team", t.team)) if v is not None]
        if len(named) != 1:
            raise refuse(loc, "one of schedule, user or team")
        kind, value = named[0]
        if value not in names[kind]:
            raise refuse([*loc, kind], f"unknown {kind} {value!r}")
        found.append(Target(kind, value))
    return tuple(found)


def _person(key: str, u: UserSpec, where: list[Any],
            refuse: Callable[[list[Any], str], OnCallError]) -> Person:
    contacts = tuple(Contact(c.kind, c.address) for c in u.contacts)
    kinds = {c.kind for c in contacts}
    rules: dict[str, tuple[Rule, ...]] = {}
    for urgency in ("high", "low"):
        given = getattr(u.notify, urgency)
        if given is None:
            continue
        for i, r in enumerate(given):
            if r.contact not in kinds:
                raise refuse([*where, "notify", urgency, i, "contact"],
                             f"{key} has no {r.contact} contact")
        rules[urgency] = tuple(Rule(r.contact, timedelta(seconds=parse_duration(
            r.after, zero=True))) for r in given)
    return Person(key, u.name or key, u.time_zone, contacts, rules)


def _layer(s: LayerSpec, zone: ZoneInfo, loc: list[Any],
           refuse: Callable[[list[Any], str], OnCallError],
           known: Callable[[str, list[Any]], str]) -> Layer:
    users = tuple(known(u, [*loc, "users", j]) for j, u in enumerate(s.users))
    if s.start.tzinfo is not None:
        raise refuse([*loc, "start"], "a wall-clock time in the schedule's zone, without an "
                     "offset (2026-11-02T09:00)")
    days, length = {"daily": (1, None), "weekly": (7, None)}.get(s.rotation, (0, None))
    if s.rotation == "custom":
        if s.length is None:
            raise refuse([*loc, "length"], "a custom rotation needs a length (12h, 3d)")
        seconds = int(parse_duration(s.length))
        if seconds % 86400 == 0:
            days = seconds // 86400  # whole days: hand-offs keep their wall-clock time
        else:
            length = timedelta(seconds=seconds)
    elif s.length is not None:
        raise refuse([*loc, "length"], f"only a custom rotation takes a length, not "
                     f"{s.rotation}")
    restriction = None
    if s.restrict is not None:
        start = end = time(0)
        if s.restrict.hours:
            begins, ends = s.restrict.hours.split("-")
            start = time.fromisoformat(begins)
            end = time(0) if ends == "24:00" else time.fromisoformat(ends)
        restriction = Restriction(frozenset(WEEKDAYS.index(d) for d in s.restrict.days),
                                  start, end)
    return Layer(s.name, users, s.start, zone, days or 7, length, restriction)


def _aware(value: datetime, zone: ZoneInfo) -> datetime:
    """A time in the file: with its offset, or else a wall-clock time in ``zone``."""
    return value if value.tzinfo is not None else value.replace(tzinfo=zone)


def load(path: Path) -> Roster:
    try:
        text = path.read_text()
    except OSError as exc:
        raise OnCallError(str(path), None, "(file)", f"cannot read: {exc.strerror}") from None
    return parse(text, str(path))


@dataclass
class RosterFile:
    """The roster in force, reloaded when the file's modification time changes; a
    refused file leaves the previous roster in force and says why (``error``)."""

    path: Path | None
    roster: Roster
    error: str | None = None
    loaded_at: datetime | None = None
    _mtime: float | None = None

    @classmethod
    def open(cls, path: Path | None, now: datetime) -> RosterFile:
        """At start, a missing or bad file is fatal."""
        if path is None:
            return cls(None, Roster(), loaded_at=now)
        mtime = _mtime_of(path)
        return cls(path, load(path), loaded_at=now, _mtime=mtime)

    def current(self, now: datetime) -> Roster:
        if self.path is None:
            return self.roster
        try:
            mtime = _mtime_of(self.path)
        except OnCallError as exc:
            self._refuse(str(exc))
            return self.roster
        if mtime != self._mtime:
            self._mtime = mtime
            try:
                self.roster = load(self.path)
            except (OnCallError, yaml.YAMLError) as exc:
                self._refuse(str(exc))
            else:
                self.error, self.loaded_at = None, now
                log.info("on-call file reloaded", extra={"path": str(self.path)})
        return self.roster

    def _refuse(self, message: str) -> None:
        if message != self.error:
            log.error("on-call file refused; the previous one stays in force",
                      extra={"error": message})
        self.error = message


def _mtime_of(path: Path) -> float:
    try:
        return os.stat(path).st_mtime
    except OSError as exc:
        raise OnCallError(str(path), None, "(file)", f"cannot read: {exc.strerror}") from None
