"""Who is on call: rotations in layers, restricted to hours and weekdays, and overrides.
Pure: no I/O, no broker, no clock.

A layer hands the pager from one person to the next every day, week or custom length,
at the wall-clock time of its ``start`` in the schedule's time zone, so a hand-off at
09:00 stays at 09:00 across a DST change (that day's shift is 23 or 25 hours long). A
restriction (weekdays and hours, possibly over midnight) keeps a layer to part of the
week. Layers of one schedule do not overlap (the file is refused when they do); where
none covers a time, the schedule has a gap. An override gives a person a span of time
whatever the layers say; of overlapping overrides, the one made last wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .escalation import EscalationPolicy, Level, Major
from .people import Person

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
OVERRIDE = "override"
"""The layer name of time an override gives."""


@dataclass(frozen=True)
class Restriction:
    """Weekdays (0 = Monday) and a daily span ``start``-``end`` in the schedule's zone;
    ``end`` at or before ``start`` runs over midnight, into the next day (``end`` equal
    to ``start``: a whole day from ``start``)."""

    days: frozenset[int]
    start: time = time(0)
    end: time = time(0)

    @property
    def whole_day(self) -> bool:
        return self.start == self.end == time(0)

    def covers(self, local: datetime) -> bool:
        if self.whole_day:
            return local.weekday() in self.days
        now = local.time()
        if self.start < self.end:
            return local.weekday() in self.days and self.start <= now < self.end
        if now >= self.start:  # the evening part
            return local.weekday() in self.days
        return now < self.end and (local.weekday() - 1) % 7 in self.days

    def edges(self, day: date) -> tuple[datetime, datetime]:
        return datetime.combine(day, self.start), datetime.combine(day, self.end)


@dataclass(frozen=True)
class Layer:
    """``users`` take turns from ``start`` (a wall-clock time in ``zone``), each for
    ``days`` days, or for ``length`` when that is set (a rotation of hours)."""

    name: str
    users: tuple[str, ...]
    start: datetime
    zone: ZoneInfo
    days: int = 7
    length: timedelta | None = None
    restriction: Restriction | None = None

    def shift(self, at: datetime) -> tuple[int, datetime, datetime] | None:
        """The turn covering ``at`` (aware): its number and its start and end (aware);
        None before the first hand-off."""
        if self.length is not None:
            first = self.start.replace(tzinfo=self.zone)
            if at < first:
                return None
            n = (at - first) // self.length
            return n, first + n * self.length, first + (n + 1) * self.length
        wall = at.astimezone(self.zone).replace(tzinfo=None)
        if wall < self.start:
            return None
        n = (wall - self.start) // timedelta(days=self.days)
        begins = self.start + timedelta(days=self.days * n)
        return n, self.aware(begins), self.aware(begins + timedelta(days=self.days))

    def aware(self, wall: datetime) -> datetime:
        return wall.replace(tzinfo=self.zone)

    def who(self, at: datetime) -> str | None:
        found = self.shift(at)
        if found is None or not self.covers(at):
            return None
        return self.users[found[0] % len(self.users)]

    def covers(self, at: datetime) -> bool:
        """Whether the restriction (if any) lets the layer cover ``at``."""
        return self.restriction is None or self.restriction.covers(
            at.astimezone(self.zone).replace(tzinfo=None))

    def edges(self, start: datetime, end: datetime) -> Iterator[datetime]:
        """Every time in [start, end) at which this layer may change hands."""
        yield self.aware(self.start)
        found = self.shift(start)
        turn_end = found[2] if found else self.aware(self.start)
        while turn_end < end:
            yield turn_end
            found = self.shift(turn_end)
            if found is None or found[2] <= turn_end:
                break
            turn_end = found[2]
        if self.restriction is not None:
            day = start.astimezone(self.zone).date() - timedelta(days=1)
            last = end.astimezone(self.zone).date() + timedelta(days=1)
            while day <= last:
                for wall in self.restriction.edges(day):
                    yield self.aware(wall)
                day += timedelta(days=1)


@dataclass(frozen=True)
class Override:
    override_id: str
    user: str
    start: datetime
    end: datetime
    reason: str = ""
    created_by: str = ""
    created_at: datetime | None = None
    source: str = "file"
    """``file``: written in the schedule file; ``command``: made by a person."""


@dataclass(frozen=True)
class Turn:
    """A span of a schedule with one person on call (``user`` None: a gap)."""

    start: datetime
    end: datetime
    user: str | None
    layer: str | None


@dataclass(frozen=True)
class Schedule:
    name: str
    team: str | None
    zone: ZoneInfo
    layers: tuple[Layer, ...] = ()
    overrides: tuple[Override, ...] = ()

    def with_overrides(self, more: Iterable[Override]) -> Schedule:
        return Schedule(self.name, self.team, self.zone, self.layers,
                        (*self.overrides, *more))

    def who(self, at: datetime) -> tuple[str | None, str | None]:
        """(person, layer) on call at ``at``; (None, None) in a gap."""
        for o in sorted(self.overrides, key=_made, reverse=True):
            if o.start <= at < o.end:
                return o.user, OVERRIDE
        for layer in self.layers:
            if (user := layer.who(at)) is not None:
                return user, layer.name
        return None, None

    def turns(self, start: datetime, end: datetime) -> list[Turn]:
        """[start, end) as the spans in which one person (or nobody) is on call."""
        points = {start}
        for layer in self.layers:
            points.update(p for p in layer.edges(start, end) if start < p < end)
        for o in self.overrides:
            points.update(p for p in (o.start, o.end) if start < p < end)
        ordered = sorted(points)
        found: list[Turn] = []
        for begins, ends in zip(ordered, [*ordered[1:], end], strict=True):
            user, named = self.who(begins)
            if found and (found[-1].user, found[-1].layer) == (user, named):
                found[-1] = Turn(found[-1].start, ends, user, named)
            else:
                found.append(Turn(begins, ends, user, named))
        return found

    def gaps(self, start: datetime, end: datetime) -> list[Turn]:
        return [t for t in self.turns(start, end) if t.user is None]


def _made(o: Override) -> tuple[datetime, str]:
    return (o.created_at or o.start, o.override_id)


@dataclass(frozen=True)
class Roster:
    """Everyone, the teams, the schedules and which schedule answers for a service."""

    people: dict[str, Person] = field(default_factory=dict)
    teams: dict[str, tuple[str, ...]] = field(default_factory=dict)
    schedules: dict[str, Schedule] = field(default_factory=dict)
    services: dict[str, str] = field(default_factory=dict)
    policies: dict[str, EscalationPolicy] = field(default_factory=dict)
    major: Major | None = None

    def policy_for(self, service: str | None, owner: str | None) -> EscalationPolicy | None:
        """The policy naming the service, else the one of its owning team (the catalog's
        owner, else the team of the schedule the file names for the service)."""
        if service is not None:
            named = next((p for p in self.policies.values() if service in p.services), None)
            if named is not None:
                return named
            schedule = self.schedules.get(self.services.get(service, ""))
            owner = owner or (schedule.team if schedule else None)
        return next((p for p in self.policies.values() if owner and p.team == owner), None)

    def paged(self, level: Level, at: datetime) -> list[str]:
        """Who a level pages at ``at``: each schedule's person on call, each user, each
        team's members; once each, in order."""
        found: list[str] = []
        for target in level.targets:
            if target.kind == "schedule":
                user, _ = self.schedules[target.name].who(at)
                found += [user] if user else []
            elif target.kind == "user":
                found.append(target.name)
            else:
                found += list(self.teams.get(target.name, ()))
        return list(dict.fromkeys(found))

    def schedule_for(self, service: str, owner: str | None) -> Schedule | None:
        """The service's own schedule, else the first of its owning team's."""
        name = self.services.get(service)
        if name is not None:
            return self.schedules.get(name)
        return next((s for s in self.schedules.values() if owner and s.team == owner), None)


def overlap(a: Layer, b: Layer, week: Sequence[datetime]) -> datetime | None:
    """A wall-clock minute of ``week`` both layers' restrictions cover, if any."""
    for minute in week:
        if _allows(a, minute) and _allows(b, minute):
            return minute
    return None


def _allows(layer: Layer, wall: datetime) -> bool:
    return layer.restriction is None or layer.restriction.covers(wall)


def a_week(monday: date = date(2024, 1, 1)) -> list[datetime]:
    """Every minute of a week, as wall-clock times (restrictions repeat weekly)."""
    first = datetime.combine(monday, time(0))
    return [first + timedelta(minutes=m) for m in range(7 * 24 * 60)]
