"""SLA definitions and SLA clocks. Pure: no I/O, no broker, no clock.

A clock measures one target of one incident under one agreement: the customer SLA,
an OLA of the assignment group working on it, or the supplier's underpinning
contract (UC). ``response`` runs from the start to the acknowledgement (or the
resolution when nobody acknowledged); ``resolution`` to the resolution. Time counts
on the definition's schedule, minus the time the incident spent paused. A reopened
incident gets a new resolution clock from the reopen time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from .schedule import ALWAYS, Schedule

Kind = Literal["response", "resolution"]
Agreement = Literal["sla", "ola", "uc"]
State = Literal["running", "met", "breached", "cancelled"]
StopResult = Literal["met", "breached", "recorded"]
"""``met``/``breached``: this stop decided the clock; ``recorded``: an earlier breach
stands and only the stop time was noted."""

KINDS: tuple[Kind, ...] = ("response", "resolution")
PRIORITIES: tuple[int, ...] = (1, 2, 3, 4, 5)
AT_RISK_PERCENTS: tuple[int, ...] = (50, 75, 90)
ANY_HOLD = "*"


@dataclass(frozen=True)
class SlaPolicy:
    name: str
    priority: int
    response_seconds: int
    resolution_seconds: int
    service: str | None = None
    """None: the default for the priority on every service without its own definition."""
    schedule: Schedule = ALWAYS
    pause_on: frozenset[str] = frozenset({ANY_HOLD})
    """Hold reasons that pause the clock; ``*`` pauses on every hold, empty never pauses."""
    retroactive: bool = False
    """Start at the first alert's time instead of the incident's opening."""

    def target(self, kind: Kind) -> int:
        return self.response_seconds if kind == "response" else self.resolution_seconds

    def pauses_on(self, reason: str) -> bool:
        return ANY_HOLD in self.pause_on or reason in self.pause_on


class PolicyBook:
    """SLA definitions by (service, priority), with a default per priority."""

    def __init__(self, policies: Iterable[SlaPolicy], olas: Iterable[SlaPolicy] = ()) -> None:
        self._policies = {(p.service, p.priority): p for p in policies}
        self._olas = {(p.service, p.priority): p for p in olas}
        """OLAs: ``service`` holds the assignment group."""

    def for_priority(self, priority: int) -> SlaPolicy:
        try:
            return self._policies[(None, priority)]
        except KeyError:
            raise KeyError(f"no SLA policy for priority P{priority}") from None

    def find(self, service: str | None, priority: int) -> SlaPolicy:
        """The service's own definition for the priority, else the priority's default."""
        return self._policies.get((service, priority)) or self.for_priority(priority)

    def ola(self, group: str, priority: int) -> SlaPolicy | None:
        return self._olas.get((group, priority)) or self._olas.get((None, priority))

    def olas(self) -> list[SlaPolicy]:
        return list(self._olas.values())

    def __iter__(self) -> Iterator[SlaPolicy]:
        return iter(sorted(self._policies.values(),
                           key=lambda p: (p.service or "", p.priority)))


_H = 3600
DEFAULT_POLICIES = PolicyBook([
    SlaPolicy("P1 critical", 1, 15 * 60, 4 * _H),
    SlaPolicy("P2 high", 2, 30 * 60, 8 * _H),
    SlaPolicy("P3 moderate", 3, 4 * _H, 72 * _H),
    SlaPolicy("P4 low", 4, 8 * _H, 120 * _H),
    SlaPolicy("P5 planning", 5, 24 * _H, 240 * _H),
])


def clock_id(incident_id: str, kind: Kind, generation: int, agreement: Agreement = "sla",
             party: str | None = None) -> str:
    """Deterministic, so a redelivered event finds the clock it already started."""
    if agreement == "sla":
        return f"{incident_id}-{kind}-{generation}"
    return f"{incident_id}-{agreement}-{party}-{kind}-{generation}"[:96]


@dataclass
class SlaClock:
    clock_id: str
    incident_id: str
    kind: Kind
    policy: str
    priority: int
    service: str | None
    target_seconds: int
    started_at: datetime
    deadline: datetime
    state: State = "running"
    stopped_at: datetime | None = None
    agreement: Agreement = "sla"
    party: str | None = None
    """The OLA's assignment group or the UC's supplier."""
    schedule: str = ALWAYS.name
    paused_seconds: float = 0.0
    """Working seconds spent paused, finished pauses only."""
    paused_at: datetime | None = None
    warned: int = 0
    """The highest at-risk percentage already announced."""
    pause_on: str = ANY_HOLD
    """Comma-separated hold reasons that pause this clock (copied from its definition)."""
    calendar: Schedule = field(default=ALWAYS, compare=False, repr=False)

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def paused(self) -> bool:
        return self.paused_at is not None

    def _end(self, now: datetime) -> datetime:
        return self.stopped_at or self.paused_at or now

    def elapsed_seconds(self, now: datetime) -> float:
        """Working time counted so far; frozen while paused and once stopped."""
        counted = self.calendar.business_seconds(self.started_at, self._end(now))
        return max(0.0, counted - self.paused_seconds)

    def remaining_seconds(self, now: datetime) -> float:
        return max(0.0, self.target_seconds - self.elapsed_seconds(now))

    def percent_consumed(self, now: datetime) -> float:
        """Share of the target used, past 100 when overdue."""
        return round(self.elapsed_seconds(now) / self.target_seconds * 100, 2)

    def at(self, seconds: float) -> datetime:
        """When ``seconds`` of this clock's time will have been counted, if nothing pauses it."""
        return self.calendar.add(self.started_at, seconds + self.paused_seconds)

    def next_check(self) -> tuple[datetime, int | None]:
        """The next at-risk warning (time and percent) or, after the last one, the deadline."""
        for percent in AT_RISK_PERCENTS:
            if percent > self.warned:
                return self.at(self.target_seconds * percent / 100), percent
        return self.deadline, None

    def due_warnings(self, now: datetime) -> list[int]:
        """At-risk percentages reached by ``now`` and not yet announced; marks them announced."""
        if not self.running or self.paused:
            return []
        reached = [p for p in AT_RISK_PERCENTS if p > self.warned
                   and self.at(self.target_seconds * p / 100) <= now]
        if reached:
            self.warned = reached[-1]
        return reached

    def pause(self, at: datetime) -> bool:
        if not self.running or self.paused:
            return False
        self.paused_at = max(at, self.started_at)
        return True

    def resume(self, at: datetime) -> bool:
        """Count the pause out and move the deadline by the working time it covered."""
        if not self.running or self.paused_at is None:
            return False
        self.paused_seconds += self.calendar.business_seconds(self.paused_at, at)
        self.paused_at = None
        self.deadline = self.at(self.target_seconds)
        return True

    def retarget(self, policy: SlaPolicy) -> bool:
        """Measure a running clock against another definition, from its original start."""
        if not self.running:
            return False
        self.policy, self.priority = policy.name, policy.priority
        self.target_seconds = policy.target(self.kind)
        self.warned = 0
        self.deadline = self.at(self.target_seconds)
        return True

    def stop(self, at: datetime) -> StopResult | None:
        """Stop at ``at`` (the time the incident event happened); None when already stopped."""
        if self.stopped_at is not None or self.state == "cancelled":
            return None
        if self.state == "breached":
            self.stopped_at = at
            return "recorded"
        if self.paused_at is not None:  # the pause ends with the clock
            self.paused_seconds += self.calendar.business_seconds(self.paused_at, at)
            self.paused_at = None
        elapsed = self.elapsed_seconds(at)
        self.stopped_at = at
        self.state = "met" if elapsed <= self.target_seconds else "breached"
        return self.state

    def overrun_seconds(self) -> float:
        """Working time beyond the target, for a stopped clock."""
        if self.stopped_at is None:
            return 0.0
        return max(0.0, self.elapsed_seconds(self.stopped_at) - self.target_seconds)

    def breach(self, now: datetime) -> bool:
        """Mark a running, unpaused clock breached once its deadline has passed."""
        if not self.running or self.paused or now < self.deadline:
            return False
        self.state = "breached"
        return True

    def cancel(self, at: datetime) -> bool:
        if not self.running:
            return False
        self.state = "cancelled"
        self.stopped_at = at
        return True


def start_clock(*, incident_id: str, kind: Kind, generation: int, policy: SlaPolicy,
                service: str | None, started_at: datetime, agreement: Agreement = "sla",
                party: str | None = None) -> SlaClock:
    target = policy.target(kind)
    return SlaClock(
        clock_id=clock_id(incident_id, kind, generation, agreement, party),
        incident_id=incident_id, kind=kind, policy=policy.name, priority=policy.priority,
        service=service, target_seconds=target, started_at=started_at,
        deadline=policy.schedule.add(started_at, target), agreement=agreement, party=party,
        schedule=policy.schedule.name, pause_on=",".join(sorted(policy.pause_on)),
        calendar=policy.schedule)


def next_generation(clocks: Iterable[SlaClock], kind: Kind, agreement: Agreement = "sla",
                    party: str | None = None) -> int:
    return 1 + sum(1 for c in clocks
                   if c.kind == kind and c.agreement == agreement and c.party == party)


def format_duration(seconds: int) -> str:
    """``4h``, ``1d2h``, ``90s``: the largest units that divide exactly."""
    if seconds <= 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)
