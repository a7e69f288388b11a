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
from collections.abc import Callable
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from reasonops_runtime.durations import parse_duration
from reasonops_runtime.yaml_source import SourceError, dotted, line_of, read_mapping

from .escalation import EscalationPolicy, Level, Major, Target
from .people import Contact, Person, Rule
from .rotation import (
    WEEKDAYS,
    Layer,
    Override,
    Restriction,
    Roster,
    Schedule,
    a_week,
    overlap,
)
from .spec import LayerSpec, OnCallSpec, TargetSpec, UserSpec

log = logging.getLogger(__name__)


class OnCallError(SourceError):
    """The on-call file is wrong: which file, which line and field, and why."""
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
