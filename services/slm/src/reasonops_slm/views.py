"""Clocks, penalties and service months -> the contract's events and read models."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime

from reasonops_contracts.slm import (
    PenaltyAssessed,
    ServiceMonthView,
    SlaAtRisk,
    SlaBreached,
    SlaClockView,
    SlaMet,
    SlaPaused,
    SlaResumed,
    SlaStarted,
    SlaStatus,
)

from .availability import ServiceMonth
from .domain import SlaClock
from .penalties import Penalty


def started_event(clock: SlaClock) -> SlaStarted:
    return SlaStarted(clock_id=clock.clock_id, incident_id=clock.incident_id,
                      policy=clock.policy, kind=clock.kind, priority=clock.priority,
                      service=clock.service, target_seconds=clock.target_seconds,
                      started_at=clock.started_at, deadline=clock.deadline,
                      agreement=clock.agreement, party=clock.party)


def met_event(clock: SlaClock, stopped_at: datetime) -> SlaMet:
    return SlaMet(clock_id=clock.clock_id, incident_id=clock.incident_id, kind=clock.kind,
                  stopped_at=stopped_at, elapsed_seconds=clock.elapsed_seconds(stopped_at),
                  target_seconds=clock.target_seconds, agreement=clock.agreement,
                  party=clock.party)


def breached_event(clock: SlaClock, breached_at: datetime) -> SlaBreached:
    return SlaBreached(clock_id=clock.clock_id, incident_id=clock.incident_id,
                       policy=clock.policy, kind=clock.kind, priority=clock.priority,
                       service=clock.service, target_seconds=clock.target_seconds,
                       deadline=clock.deadline, breached_at=breached_at,
                       agreement=clock.agreement, party=clock.party)


def at_risk_event(clock: SlaClock, percent: int) -> SlaAtRisk:
    at = clock.at(clock.target_seconds * percent / 100)
    return SlaAtRisk(clock_id=clock.clock_id, incident_id=clock.incident_id, kind=clock.kind,
                     agreement=clock.agreement, party=clock.party, priority=clock.priority,
                     service=clock.service, percent=percent,
                     elapsed_seconds=clock.target_seconds * percent / 100,
                     remaining_seconds=clock.target_seconds * (100 - percent) / 100,
                     deadline=clock.deadline, at=at)


def paused_event(clock: SlaClock, reason: str) -> SlaPaused:
    assert clock.paused_at is not None
    return SlaPaused(clock_id=clock.clock_id, incident_id=clock.incident_id, kind=clock.kind,
                     agreement=clock.agreement, paused_at=clock.paused_at, reason=reason,
                     elapsed_seconds=clock.elapsed_seconds(clock.paused_at))


def resumed_event(clock: SlaClock, at: datetime) -> SlaResumed:
    return SlaResumed(clock_id=clock.clock_id, incident_id=clock.incident_id, kind=clock.kind,
                      agreement=clock.agreement, resumed_at=at,
                      paused_seconds=clock.paused_seconds, deadline=clock.deadline)


def penalty_event(penalty: Penalty) -> PenaltyAssessed:
    return PenaltyAssessed(**asdict(penalty))


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


def sla_status(incident_id: str, clocks: Iterable[SlaClock], penalties: Iterable[Penalty],
               now: datetime) -> SlaStatus:
    """Every clock of the incident as of ``now``; an incident we never saw has none."""
    return SlaStatus(incident_id=incident_id, clocks=[clock_view(c, now) for c in clocks],
                     penalties=[penalty_event(p) for p in penalties])


def month_view(month: ServiceMonth) -> ServiceMonthView:
    return ServiceMonthView(**asdict(month))
