"""A month of one service desk, simulated (for the evaluation): incidents arrive per
group, more in working hours; the group's people take them in turn (several in working
hours, one on call outside), answer after a while (longer when woken) and work each to
resolution. Pure and seeded: the same month every run."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from .domain import working

PRIORITY_MIX = ((1, 0.05), (2, 0.15), (3, 0.45), (4, 0.35))
OUT_OF_HOURS_ANSWER = 2.5
"""How much longer an answer takes from the person on call outside working hours."""


class Group(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    per_day: float = Field(gt=0, description="Incidents a day on average")
    staff: int = Field(ge=1, description="People in working hours (one on call outside)")
    answer_minutes: float = Field(gt=0, description="Median time to pick one up")
    work_minutes: dict[int, float] = Field(description="Median time to resolve, by priority")


class Month(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    split: str | None = None
    reason: str | None = None
    start: datetime
    days: int = Field(ge=1, le=62)
    seed: int = 0
    groups: list[Group]
    targets: dict[str, dict[int, float]] = Field(
        description="Minutes by clock kind (response, resolution) and priority")


@dataclass(frozen=True)
class Handled:
    incident_id: str
    group: str
    priority: int
    opened_at: datetime
    acknowledged_at: datetime
    resolved_at: datetime


def _arrivals(rng: random.Random, month: Month, group: Group) -> list[datetime]:
    in_rate = group.per_day * 0.75 / 10  # per working hour
    out_rate = group.per_day * 0.25 / 14
    found = []
    for hour in range(month.days * 24):
        at = month.start + timedelta(hours=hour)
        rate = in_rate if working(at) else out_rate * (0.6 if at.weekday() >= 5 else 1)
        n = 0
        # Poisson by inversion: few per hour.
        threshold, p, u = math.exp(-rate), 1.0, rng.random()
        while True:
            p *= rng.random() if n else u
            if p < threshold:
                break
            n += 1
        found += sorted(at + timedelta(seconds=rng.uniform(0, 3600)) for _ in range(n))
    return found


def _next_available(free_at: datetime, index: int) -> datetime:
    """When person ``index`` can next take work: the first is always on call; the others
    only in working hours."""
    at = free_at
    while index and not working(at):
        at = (at + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    return at


def simulate(month: Month) -> list[Handled]:
    rng = random.Random(month.seed)
    handled: list[Handled] = []
    number = 0
    for group in month.groups:
        free = [month.start] * group.staff
        for opened in _arrivals(rng, month, group):
            number += 1
            priority = rng.choices([p for p, _ in PRIORITY_MIX],
                                   [w for _, w in PRIORITY_MIX])[0]
            options = [(_next_available(max(free[i], opened), i), i) for i in range(len(free))]
            start, who = min(options)
            answer = rng.lognormvariate(math.log(group.answer_minutes), 0.6)
            answer *= 1 if working(start) else OUT_OF_HOURS_ANSWER
            acknowledged = start + timedelta(minutes=answer)
            work = rng.lognormvariate(math.log(group.work_minutes[priority]), 0.8)
            resolved = acknowledged + timedelta(minutes=work)
            free[who] = resolved
            handled.append(Handled(f"INC{number:07d}", group.name, priority, opened,
                                   acknowledged, resolved))
    return sorted(handled, key=lambda h: h.opened_at)
