"""Supplier contracts and what breaches and lost availability cost. Pure.

Clauses: a flat amount per breach by priority; an amount per started hour beyond
the target, by priority; a service credit as a percentage of the monthly fee when
a month's availability falls below a tier. A monthly cap limits what a contract
can cost in one month; every amount rounds to the currency's minor unit.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal

from reasonops_contracts.money import round_money

from .domain import SlaClock, SlaPolicy, format_duration

Clause = Literal["per_breach", "per_hour", "availability"]
ZERO = Decimal("0")


@dataclass(frozen=True)
class CreditTier:
    below: Decimal
    """Availability percentage under which the credit applies, e.g. 99.9."""
    percent: Decimal
    """Credit as a percentage of the monthly fee."""


@dataclass(frozen=True)
class SupplierContract:
    contract_id: str
    supplier: str
    services: frozenset[str]
    currency: str
    penalties: Mapping[int, Decimal]
    """Amount per breach, by priority; a priority not listed costs nothing."""
    per_hour: Mapping[int, Decimal] = field(default_factory=dict)
    """Amount per started hour of working time beyond the target, by priority."""
    monthly_fee: Decimal | None = None
    credits: tuple[CreditTier, ...] = ()
    monthly_cap: Decimal | None = None
    targets: Mapping[int, SlaPolicy] = field(default_factory=dict)
    """Underpinning-contract targets by priority; when set, penalties follow these
    clocks instead of the customer SLA's."""

    def bills(self, clock: SlaClock) -> bool:
        """Whether breaches of ``clock`` cost this supplier money."""
        return clock.agreement == ("uc" if self.targets else "sla")


@dataclass(frozen=True)
class Penalty:
    penalty_id: str
    incident_id: str | None
    clock_id: str
    contract_id: str
    supplier: str
    service: str
    priority: int
    kind: str
    amount: Decimal
    currency: str
    assessed_at: datetime
    reason: str
    clause: Clause = "per_breach"


def contract_for(contracts: Iterable[SupplierContract], service: str | None
                 ) -> SupplierContract | None:
    if service is None:
        return None
    return next((c for c in contracts if service in c.services), None)


def penalty_id(clock: SlaClock, clause: Clause = "per_breach") -> str:
    """One penalty per clock and clause: re-assessing is a no-op."""
    return f"PEN-{clock.clock_id}" if clause == "per_breach" else f"PENH-{clock.clock_id}"


def capped(amount: Decimal, already: Decimal, cap: Decimal | None) -> Decimal:
    """What may still be charged this month: ``amount`` up to what the cap leaves."""
    if cap is None:
        return amount
    return max(ZERO, min(amount, cap - already))


def _penalty(clock: SlaClock, contract: SupplierContract, amount: Decimal, at: datetime,
             clause: Clause, reason: str) -> Penalty:
    assert clock.service is not None
    return Penalty(penalty_id=penalty_id(clock, clause), incident_id=clock.incident_id,
                   clock_id=clock.clock_id, contract_id=contract.contract_id,
                   supplier=contract.supplier, service=clock.service,
                   priority=clock.priority, kind=clock.kind,
                   amount=round_money(amount, contract.currency), currency=contract.currency,
                   assessed_at=at, reason=reason, clause=clause)


def assess_penalty(clock: SlaClock, contracts: Iterable[SupplierContract], at: datetime,
                   *, already: Decimal = ZERO) -> Penalty | None:
    """The flat penalty a breach of ``clock`` costs its supplier, if a contract covers it.

    ``already``: what the contract has cost in the month so far, for its cap.
    """
    contract = contract_for(contracts, clock.service)
    if contract is None or not contract.bills(clock):
        return None
    amount = capped(contract.penalties.get(clock.priority, ZERO), already, contract.monthly_cap)
    if amount <= 0:
        return None
    agreement = "" if clock.agreement == "sla" else f"{clock.agreement.upper()} "
    return _penalty(clock, contract, amount, at, "per_breach",
                    f"P{clock.priority} {agreement}{clock.kind} target of "
                    f"{format_duration(clock.target_seconds)} breached on {clock.service} "
                    f"(contract {contract.contract_id})")


def assess_overrun(clock: SlaClock, contracts: Iterable[SupplierContract], at: datetime,
                   *, already: Decimal = ZERO) -> Penalty | None:
    """The per-started-hour penalty of a breached clock once it stopped."""
    contract = contract_for(contracts, clock.service)
    if contract is None or not contract.bills(clock) or clock.state != "breached":
        return None
    rate = contract.per_hour.get(clock.priority, ZERO)
    hours = math.ceil(clock.overrun_seconds() / 3600)
    amount = capped(rate * hours, already, contract.monthly_cap)
    if amount <= 0:
        return None
    return _penalty(clock, contract, amount, at, "per_hour",
                    f"{hours} started hour(s) beyond the P{clock.priority} {clock.kind} target "
                    f"at {rate} {contract.currency}/h on {clock.service} "
                    f"(contract {contract.contract_id})")


def credit_percent(contract: SupplierContract, availability: Decimal) -> Decimal:
    """The credit of the worst tier the availability fell into (0 when none)."""
    return max((t.percent for t in contract.credits if availability < t.below), default=ZERO)


def assess_availability(contract: SupplierContract, service: str, month: str,
                        availability: Decimal, at: datetime, *,
                        already: Decimal = ZERO) -> Penalty | None:
    """The month's service credit for ``service`` under ``contract``."""
    percent = credit_percent(contract, availability)
    if percent <= 0 or contract.monthly_fee is None:
        return None
    amount = capped(contract.monthly_fee * percent / 100, already, contract.monthly_cap)
    amount = round_money(amount, contract.currency)
    if amount <= 0:
        return None
    return Penalty(
        penalty_id=f"PENA-{contract.contract_id}-{service}-{month}", incident_id=None,
        clock_id=f"AVAIL-{contract.contract_id}-{service}-{month}",
        contract_id=contract.contract_id, supplier=contract.supplier, service=service,
        priority=0, kind="availability", amount=amount, currency=contract.currency,
        assessed_at=at, clause="availability",
        reason=(f"availability {availability}% in {month} on {service}: {percent}% credit of "
                f"the monthly fee {contract.monthly_fee} {contract.currency} "
                f"(contract {contract.contract_id})"))
