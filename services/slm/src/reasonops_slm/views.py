"""Clocks, penalties and service months -> the contract's read models."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime

from reasonops_contracts.slm import (
    CreditTierView,
    OpenClockView,
    ServiceMonthView,
    SlaClockView,
    SlaPolicyView,
    SlaStatus,
    SupplierContractView,
)

from .availability import ServiceMonth
from .domain import SlaClock, SlaPolicy
from .events import penalty_event
from .penalties import Penalty, SupplierContract


def clock_view(clock: SlaClock, now: datetime) -> SlaClockView:
    return SlaClockView(
        clock_id=clock.clock_id, kind=clock.kind, policy=clock.policy, state=clock.state,
        priority=clock.priority, target_seconds=clock.target_seconds,
        started_at=clock.started_at, deadline=clock.deadline, stopped_at=clock.stopped_at,
        elapsed_seconds=clock.elapsed_seconds(now),
        remaining_seconds=clock.remaining_seconds(now),
        percent_consumed=clock.percent_consumed(now), agreement=clock.agreement,
        party=clock.party, schedule=clock.schedule, paused=clock.paused,
        paused_seconds=clock.paused_seconds + (
            clock.calendar.business_seconds(clock.paused_at, now) if clock.paused_at else 0))


def open_clock_view(clock: SlaClock, service: str | None, now: datetime) -> OpenClockView:
    return OpenClockView(**clock_view(clock, now).model_dump(), incident_id=clock.incident_id,
                         service=service)


def policy_view(policy: SlaPolicy, agreement: str) -> SlaPolicyView:
    """A definition as read; an OLA's ``service`` slot holds its assignment group."""
    ola = agreement == "ola"
    return SlaPolicyView(
        name=policy.name, agreement="ola" if ola else "sla", priority=policy.priority,
        service=None if ola else policy.service, group=policy.service if ola else None,
        response_seconds=policy.response_seconds,
        resolution_seconds=policy.resolution_seconds, schedule=policy.schedule.name,
        pause_on=sorted(policy.pause_on), retroactive=policy.retroactive)


def sla_status(incident_id: str, clocks: Iterable[SlaClock], penalties: Iterable[Penalty],
               now: datetime) -> SlaStatus:
    """Every clock of the incident as of ``now``; an incident we never saw has none."""
    return SlaStatus(incident_id=incident_id, clocks=[clock_view(c, now) for c in clocks],
                     penalties=[penalty_event(p) for p in penalties])


def month_view(month: ServiceMonth) -> ServiceMonthView:
    return ServiceMonthView(**asdict(month))


def contract_view(contract: SupplierContract) -> SupplierContractView:
    return SupplierContractView(
        contract_id=contract.contract_id, supplier=contract.supplier,
        services=sorted(contract.services), currency=contract.currency,
        penalty_per_breach={f"P{p}": a for p, a in sorted(contract.penalties.items())},
        penalty_per_hour={f"P{p}": a for p, a in sorted(contract.per_hour.items())},
        monthly_fee=contract.monthly_fee, monthly_cap=contract.monthly_cap,
        availability_credits=[CreditTierView(below=t.below, percent=t.percent)
                              for t in contract.credits],
        underpinning=bool(contract.targets))
