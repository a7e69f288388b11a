"""Business-time arithmetic: working days, hours and holidays in a time zone, or 24x7.

A working day's window is built from local wall-clock times and converted to UTC,
so a DST change shifts the window in UTC and never stretches or shrinks it by an
hour of business time that nobody worked. Windows may run past midnight
(``22:00-06:00``): such a window belongs to the day it starts on.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MAX_DAYS = 3 * 366
"""How far ahead a deadline may be looked for before the schedule is declared unusable."""


@dataclass(frozen=True)
class Schedule:
    """When SLA time runs. ``zone`` None means 24x7 (every second counts)."""

    name: str
    zone: ZoneInfo | None = None
    days: frozenset[int] = frozenset(range(1, 8))
    """ISO weekdays that are working days, 1 = Monday."""
    start: time = time(0)
    end: time = time(0)
    """Equal to ``start`` means the whole day."""
    holidays: frozenset[date] = field(default_factory=frozenset)

    @property
    def always(self) -> bool:
        return self.zone is None

    def windows(self, since: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working windows in UTC, in order, from the one holding or following ``since``."""
        assert self.zone is not None
        day = since.astimezone(self.zone).date() - timedelta(days=1)
        for offset in range(MAX_DAYS + 2):
            current = day + timedelta(days=offset)
            if current.isoweekday() not in self.days or current in self.holidays:
                continue
            opens = _utc(current, self.start, self.zone)
            closes_on = current if self.end > self.start else current + timedelta(days=1)
            closes = _utc(closes_on, self.end, self.zone)
            if closes > since:
                yield opens, closes
        raise ValueError(f"schedule {self.name!r} has no working time within {MAX_DAYS} days")

    def business_seconds(self, start: datetime, end: datetime) -> float:
        """Working seconds between ``start`` and ``end`` (zero when ``end`` is not later)."""
        if end <= start:
            return 0.0
        if self.always:
            return (end - start).total_seconds()
        total = 0.0
        for opens, closes in self.windows(start):
            if opens >= end:
                break
            total += (min(closes, end) - max(opens, start)).total_seconds()
        return total

    def add(self, start: datetime, seconds: float) -> datetime:
        """The instant when ``seconds`` of working time have passed since ``start``."""
        if self.always:
            return start + timedelta(seconds=seconds)
        left = seconds
        for opens, closes in self.windows(start):
            begin = max(opens, start)
            available = (closes - begin).total_seconds()
            if left <= available:
                return begin + timedelta(seconds=left)
            left -= available
        raise AssertionError("unreachable: windows() raises first")  # pragma: no cover


def _utc(day: date, at: time, zone: ZoneInfo) -> datetime:
    # A wall time inside a spring-forward gap maps to the instant the clocks jumped to.
    local = datetime.combine(day, at, tzinfo=zone)
    return local.astimezone(UTC)


ALWAYS = Schedule("24x7")
