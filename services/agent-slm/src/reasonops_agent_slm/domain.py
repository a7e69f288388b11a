"""Will a running SLA clock breach? Pure: no I/O, no broker, no clock of its own.

The work left on a clock is what its group usually needs for this kind of clock
(measured on the clocks it met, separately in and out of its working hours) minus what
has been spent, plus the incidents queued before it in the same group, each taking the
group's usual time to answer. A clock is forecast to breach when that work ends after
its deadline; the reasons name each part.

A response clock is first compared with the group's own incidents that opened as loaded
as its incident did (as many of the group's incidents open), in or out of working hours
alike, and were still unanswered at its clock's age: how long they took to be answered
is its forecast. A group's people busy on incidents they already acknowledged make a new
one wait; the load is what shows it.
"""

from __future__ import annotations

import bisect
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from reasonops_contracts.forecasts import SlmAction, SlmOutput

MIN_SAMPLES = 5
"""Met clocks needed before a group's own pace counts (else every group's, else a share
of the target)."""
UNKNOWN_PACE_SHARE = 0.5
"""Without any history, the work is assumed to take this share of the target."""
MIN_LEFT_SHARE = 0.2
"""Work already past its usual length still needs at least this share of the usual."""
QUEUE_WEIGHT = 0.5
"""How much of a queued incident's usual answer time delays this one (people work on
several at once)."""
MIN_PROGRESS = 0.0
"""No forecast before this share of the target has been used (none: a clock started
into a long queue is late from its first minute)."""
LOAD_CAP = 8
"""A group with more incidents open than this counts as having this many (a load of 8
reads "8 or more")."""
WORK_START_HOUR, WORK_END_HOUR = 8, 18
"""Working hours (UTC, Monday to Friday) for telling in-hours from out-of-hours pace."""


@dataclass(frozen=True)
class Watched:
    """A running clock and what is known about its incident."""

    clock_id: str
    incident_id: str
    kind: str
    agreement: str
    party: str | None
    priority: int
    service: str | None
    started_at: datetime
    deadline: datetime
    target_seconds: int
    group: str | None
    acknowledged: bool = False
    opened_at: datetime | None = None
    load: int | None = None
    """The group's open incidents when this one opened (or came to the group)."""


@dataclass(frozen=True)
class Answered:
    """One of the group's incidents the agent saw answered."""

    load: int
    in_hours: bool
    seconds: float


@dataclass(frozen=True)
class Answers:
    """A group's answered incidents' answer times, sorted, by working hours and load
    (capped at ``LOAD_CAP``): what a response clock is compared with."""

    by: Mapping[tuple[bool, int], tuple[float, ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, answered: Iterable[Answered]) -> Answers:
        by: dict[tuple[bool, int], list[float]] = {}
        for a in answered:
            by.setdefault((a.in_hours, min(a.load, LOAD_CAP)), []).append(a.seconds)
        return cls({key: tuple(sorted(times)) for key, times in by.items()})

    def after(self, in_hours: bool, loads: range, spent: float) -> list[float]:
        """Answer times longer than ``spent`` of the incidents opened with ``loads``."""
        found: list[float] = []
        for load in loads:
            times = self.by.get((in_hours, load), ())
            found += times[bisect.bisect_right(times, spent):]
        return found


@dataclass(frozen=True)
class Pace:
    """Seconds the met clocks of one group and kind took, in and out of working hours."""

    in_hours: tuple[float, ...] = ()
    out_of_hours: tuple[float, ...] = ()
    everyone: tuple[float, ...] = field(default=())
    """The same kind of clock across every group."""
    answered: Answers = field(default_factory=Answers)
    """For response clocks: the group's latest answered incidents, by their load."""


@dataclass(frozen=True)
class Forecast:
    breach: bool
    done_at: datetime
    seconds_left: float
    seconds_needed: float
    progress: float
    queue_ahead: int
    working_hours: bool
    usual_seconds: float
    reasons: tuple[str, ...]


def working(at: datetime) -> bool:
    return at.weekday() < 5 and WORK_START_HOUR <= at.hour < WORK_END_HOUR


PACE_QUANTILE = 0.8
"""Which quantile of the met clocks' times counts as "usual" (higher: more breaches
forecast, more false alarms)."""


def _usual(samples: Sequence[float]) -> float | None:
    if len(samples) < MIN_SAMPLES:
        return None
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(PACE_QUANTILE * len(ordered)))]


LIKE_WIDTHS = (0, 1, 2, LOAD_CAP)
"""How far the compared incidents' load may be from this one's, tried in turn until
``MIN_SAMPLES`` are found."""
LIKE_QUANTILE = 0.5
"""Which quantile of the compared incidents' answer times is the forecast (chosen on the
``dev`` month, see ``docs/agents.md``: a breach is forecast when half of them or more
were answered after the deadline)."""


def like_answers(clock: Watched, answers: Answers, spent: float
                 ) -> tuple[list[float], int] | None:
    """Answer times of the incidents like ``clock``'s (load, working hours) still
    unanswered after ``spent`` seconds, with the load difference allowed; None when too
    few."""
    if clock.load is None or clock.opened_at is None:
        return None
    load, in_hours = min(clock.load, LOAD_CAP), working(clock.opened_at)
    for width in LIKE_WIDTHS:
        found = answers.after(in_hours, range(max(0, load - width),
                                              min(LOAD_CAP, load + width) + 1), spent)
        if len(found) >= MIN_SAMPLES:
            return found, width
    return None


def answer_time(answers: Pace) -> float | None:
    """The group's usual time to answer one incident (the median of its met response
    clocks, in and out of hours), for the wait its queue makes."""
    own = [*answers.in_hours, *answers.out_of_hours]
    return statistics.median(own) if len(own) >= MIN_SAMPLES else None


def forecast(clock: Watched, pace: Pace, queue_ahead: int, answer_seconds: float | None,
             now: datetime) -> Forecast:
    """The forecast for ``clock`` at ``now``; ``answer_seconds`` is the group's usual time
    to answer one incident (for the queue)."""
    left = (clock.deadline - now).total_seconds()
    spent = max(0.0, (now - clock.started_at).total_seconds())
    progress = 1 - left / clock.target_seconds if clock.target_seconds else 1.0
    in_hours = working(now)
    reasons = [f"{clock.kind} clock {progress:.0%} used, {left / 60:.0f} min to the deadline"]
    like = like_answers(clock, pace.answered, spent) if clock.kind == "response" \
        and not clock.acknowledged else None
    if like is not None:
        return _from_like(clock, like, now, (left, spent, progress), queue_ahead, reasons)
    usual = _usual(pace.in_hours if in_hours else pace.out_of_hours)
    if usual is not None:
        where = "in" if in_hours else "out of"
        reasons.append(f"{clock.group} usually needs {usual / 60:.0f} min {where} working "
                       f"hours (80th percentile of its met {clock.kind} clocks)")
    elif (usual := _usual(pace.everyone)) is not None:
        reasons.append(f"groups usually need {usual / 60:.0f} min for a {clock.kind} clock "
                       f"(too little history for {clock.group or 'an unassigned incident'})")
    else:
        usual = clock.target_seconds * UNKNOWN_PACE_SHARE
        reasons.append(f"no history yet: assumed {UNKNOWN_PACE_SHARE:.0%} of the target")
    needed = max(usual - spent, usual * MIN_LEFT_SHARE)
    if queue_ahead and answer_seconds:
        wait = queue_ahead * answer_seconds * QUEUE_WEIGHT
        needed += wait
        reasons.append(f"{queue_ahead} incidents queued before it in {clock.group} "
                       f"(about {wait / 60:.0f} min)")
    return _verdict(now, left, needed, progress, queue_ahead, in_hours, usual, reasons)


def _from_like(clock: Watched, like: tuple[list[float], int], now: datetime,
               used: tuple[float, float, float], queue_ahead: int, reasons: list[str]
               ) -> Forecast:
    """The forecast from the like incidents' answers; ``used``: seconds left, seconds
    spent, share of the target used."""
    (left, spent, progress), (found, width) = used, like
    ordered = sorted(found)
    usual = ordered[min(len(ordered) - 1, int(LIKE_QUANTILE * len(ordered)))]
    late = sum(1 for s in found if s > clock.target_seconds)
    load = min(clock.load or 0, LOAD_CAP)
    loads = f"{load}" if not width else \
        f"{max(0, load - width)}-{min(LOAD_CAP, load + width)}"
    where = "in" if working(clock.opened_at or clock.started_at) else "out of"
    reasons.append(
        f"of {len(found)} incidents of {clock.group} opened {where} working hours while "
        f"{loads} others were open and unanswered after {spent / 60:.0f} min, {late} were "
        f"answered after {clock.target_seconds / 60:.0f} min "
        f"({LIKE_QUANTILE * 100:.0f}th percentile {usual / 60:.0f} min)")
    needed = max(usual - spent, usual * MIN_LEFT_SHARE)
    return _verdict(now, left, needed, progress, queue_ahead, working(now), usual, reasons)


def _verdict(now: datetime, left: float, needed: float, progress: float, queue_ahead: int,
             in_hours: bool, usual: float, reasons: list[str]) -> Forecast:
    done_at = now + timedelta(seconds=needed)
    breach = progress >= MIN_PROGRESS and 0 < left < needed
    verdict = (f"likely done {(needed - left) / 60:.0f} min after the deadline" if breach
               else f"likely done with {(left - needed) / 60:.0f} min to spare"
               if needed <= left else "too early to tell")
    reasons.append(verdict)
    return Forecast(breach, done_at, left, needed, progress, queue_ahead, in_hours, usual,
                    tuple(reasons))


QUEUE_TO_REASSIGN = 3
"""Incidents queued before it from which another group is asked, when one is named."""


def actions(clock: Watched, found: Forecast,
            overflow: Mapping[str, str] | None = None) -> list[SlmAction]:
    """What to propose before the breach: escalate always; raise the priority when the
    deadline is near and it is not already P1; hand it to the group's overflow group
    when its own queue is the delay; tell the supplier when the clock is its
    underpinning contract."""
    proposed: list[SlmAction] = ["escalate"]
    if clock.priority > 1 and found.seconds_left < 2 * 3600:
        proposed.append("raise_priority")
    if found.queue_ahead >= QUEUE_TO_REASSIGN and clock.group and (overflow or {}).get(
            clock.group):
        proposed.append("reassign")
    if clock.agreement == "uc" and clock.party:
        proposed.append("notify_supplier")
    return proposed


def output(clock: Watched, found: Forecast,
           overflow: Mapping[str, str] | None = None) -> SlmOutput:
    proposed = actions(clock, found, overflow) if found.breach else []
    name = f"{clock.incident_id} {clock.kind} ({clock.agreement.upper()}"
    name += f" {clock.party})" if clock.party else ")"
    summary = (f"{name} is likely to breach: {found.reasons[-1]}; proposed: "
               f"{', '.join(a.replace('_', ' ') for a in proposed)} (needs approval)."
               if found.breach else f"{name}: {found.reasons[-1]}.")
    return SlmOutput(
        clock_id=clock.clock_id, incident_id=clock.incident_id, kind=clock.kind,  # type: ignore[arg-type]
        agreement=clock.agreement, party=clock.party,  # type: ignore[arg-type]
        priority=clock.priority, deadline=clock.deadline, predicted_breach=found.breach,
        predicted_done_at=found.done_at, minutes_left=round(found.seconds_left / 60, 1),
        minutes_needed=round(found.seconds_needed / 60, 1),
        progress_percent=round(found.progress * 100, 1), assignment_group=clock.group,
        queue_ahead=found.queue_ahead, working_hours=found.working_hours,
        recommended_actions=proposed, reasons=list(found.reasons), summary=summary)
