"""SLA policies, SLA clocks and supplier penalties. Pure: no I/O, no broker, no clock.

A clock measures one target of one incident: ``response`` (opened -> acknowledged,
or resolved when never acknowledged) and ``resolution`` (opened -> resolved). A
reopened incident gets a new resolution clock from the reopen time; its response
clock is not restarted.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

Kind = Literal["response", "resolution"]
State = Literal["running", "met", "breached", "cancelled"]
StopResult = Literal["met", "breached", "recorded"]
"""``met``/``breached``: this stop decided the clock; ``recorded``: an earlier breach
stands and only the stop time was noted."""

KINDS: tuple[Kind, ...] = ("response", "resolution")
PRIORITIES: tuple[int, ...] = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class SlaPolicy:
    name: str
    priority: int
    response_seconds: int
    resolution_seconds: int

    def target(self, kind: Kind) -> int:
        return self.response_seconds if kind == "response" else self.resolution_seconds


class PolicyBook:
    """One policy per priority."""

    def __init__(self, policies: Iterable[SlaPolicy]) -> None:
        self._by_priority = {p.priority: p for p in policies}

    def for_priority(self, priority: int) -> SlaPolicy:
        try:
            return self._by_priority[priority]
        except KeyError:
            raise KeyError(f"no SLA policy for priority P{priority}") from None

    def __iter__(self) -> Iterator[SlaPolicy]:
        return iter(sorted(self._by_priority.values(), key=lambda p: p.priority))


_H = 3600
DEFAULT_POLICIES = PolicyBook([
    SlaPolicy("P1 critical", 1, 15 * 60, 4 * _H),
    SlaPolicy("P2 high", 2, 30 * 60, 8 * _H),
    SlaPolicy("P3 moderate", 3, 4 * _H, 72 * _H),
    SlaPolicy("P4 low", 4, 8 * _H, 120 * _H),
    SlaPolicy("P5 planning", 5, 24 * _H, 240 * _H),
])


def clock_id(incident_id: str, kind: Kind, generation: int) -> str:
    """Deterministic, so a redelivered event finds the clock it already started."""
    return f"{incident_id}-{kind}-{generation}"


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

    @property
    def running(self) -> bool:
        return self.state == "running"

    def _end(self, now: datetime) -> datetime:
        return self.stopped_at or now

    def elapsed_seconds(self, now: datetime) -> float:
        return max(0.0, (self._end(now) - self.started_at).total_seconds())

    def remaining_seconds(self, now: datetime) -> float:
        """Time left before the deadline; 0 once it has passed (see ``percent_consumed``)."""
        return max(0.0, (self.deadline - self._end(now)).total_seconds())

    def percent_consumed(self, now: datetime) -> float:
        """Share of the target used, past 100 when overdue."""
        return round(self.elapsed_seconds(now) / self.target_seconds * 100, 2)

    def stop(self, at: datetime) -> StopResult | None:
        """Stop at ``at`` (the time the incident event happened); None when already stopped."""
        if self.stopped_at is not None or self.state == "cancelled":
            return None
        self.stopped_at = at
        if self.state == "breached":
            return "recorded"
        self.state = "met" if at <= self.deadline else "breached"
        return self.state

    def breach(self, now: datetime) -> bool:
        """Mark a running clock breached once its deadline has passed; False otherwise."""
        if not self.running or now < self.deadline:
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
                service: str | None, started_at: datetime) -> SlaClock:
    target = policy.target(kind)
    return SlaClock(
        clock_id=clock_id(incident_id, kind, generation), incident_id=incident_id, kind=kind,
        policy=policy.name, priority=policy.priority, service=service, target_seconds=target,
        started_at=started_at, deadline=started_at + timedelta(seconds=target))


def next_generation(clocks: Iterable[SlaClock], kind: Kind) -> int:
    return 1 + sum(1 for c in clocks if c.kind == kind)


@dataclass(frozen=True)
class SupplierContract:
    contract_id: str
    supplier: str
    services: frozenset[str]
    currency: str
    penalties: Mapping[int, Decimal]
    """Amount per breach, by priority; a priority not listed costs nothing."""


@dataclass(frozen=True)
class Penalty:
    penalty_id: str
    incident_id: str
    clock_id: str
    contract_id: str
    supplier: str
    service: str
    priority: int
    kind: Kind
    amount: Decimal
    currency: str
    assessed_at: datetime
    reason: str


def contract_for(contracts: Iterable[SupplierContract], service: str | None
                 ) -> SupplierContract | None:
    if service is None:
        return None
    return next((c for c in contracts if service in c.services), None)


def penalty_id(clock: SlaClock) -> str:
    """One penalty per breached clock: the id follows from the clock, so re-assessing is a no-op."""
    return f"PEN-{clock.clock_id}"


def assess_penalty(clock: SlaClock, contracts: Iterable[SupplierContract],
                   at: datetime) -> Penalty | None:
    """The penalty a breach of ``clock`` costs its supplier, if a contract covers the service."""
    contract = contract_for(contracts, clock.service)
    if contract is None or clock.service is None:
        return None
    amount = contract.penalties.get(clock.priority, Decimal("0"))
    if amount <= 0:
        return None
    return Penalty(
        penalty_id=penalty_id(clock), incident_id=clock.incident_id, clock_id=clock.clock_id,
        contract_id=contract.contract_id, supplier=contract.supplier, service=clock.service,
        priority=clock.priority, kind=clock.kind, amount=amount, currency=contract.currency,
        assessed_at=at,
        reason=(f"P{clock.priority} {clock.kind} target of {format_duration(clock.target_seconds)}"
                f" breached on {clock.service} (contract {contract.contract_id})"))


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
