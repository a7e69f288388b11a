"""Silences and maintenance windows, pure: when one is active and what it matches."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from ..matchers import Matcher, parse_matcher

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Schedule:
    days: tuple[str, ...]
    start: str  # HH:MM UTC
    duration: int  # seconds


@dataclass
class Silence:
    silence_id: str
    kind: str
    matchers: tuple[str, ...]
    starts_at: datetime
    ends_at: datetime | None
    author: str
    reason: str
    created_at: datetime
    schedule: Schedule | None = None
    until: datetime | None = None
    expired_at: datetime | None = None
    matched: int = 0

    def __post_init__(self) -> None:
        self._compiled: tuple[Matcher, ...] = tuple(parse_matcher(m) for m in self.matchers)

    def matches(self, fields: dict[str, str]) -> bool:
        return all(m(fields) for m in self._compiled)

    def window_at(self, at: datetime) -> tuple[datetime, datetime] | None:
        """The active window containing ``at``, if any."""
        if self.expired_at is not None and at >= self.expired_at:
            return None
        if at < self.starts_at:
            return None
        if self.schedule is None:
            if self.ends_at is not None and at >= self.ends_at:
                return None
            return self.starts_at, self.ends_at or datetime.max.replace(tzinfo=at.tzinfo)
        if self.until is not None and at >= self.until:
            return None
        hour, minute = (int(x) for x in self.schedule.start.split(":"))
        span = timedelta(seconds=self.schedule.duration)
        for back in range(0, 8):  # a window that began up to a week ago may still run
            day = (at - timedelta(days=back)).replace(hour=hour, minute=minute, second=0,
                                                      microsecond=0)
            if WEEKDAYS[day.weekday()] in self.schedule.days and day <= at < day + span \
                    and day + span > self.starts_at:
                return max(day, self.starts_at), day + span
        return None

    def active(self, at: datetime) -> bool:
        return self.window_at(at) is not None

    def state(self, at: datetime) -> Literal["pending", "active", "expired"]:
        if self.expired_at is not None and at >= self.expired_at:
            return "expired"
        if self.schedule is None:
            if self.ends_at is not None and at >= self.ends_at:
                return "expired"
            return "active" if at >= self.starts_at else "pending"
        if self.until is not None and at >= self.until:
            return "expired"
        return "active" if self.active(at) else "pending"


def first_match(silences: list[Silence], fields: dict[str, str], at: datetime) -> Silence | None:
    for silence in silences:
        if silence.active(at) and silence.matches(fields):
            return silence
    return None
