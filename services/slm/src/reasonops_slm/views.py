"""Clocks and penalties -> the contract's events and read models."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime

from reasonops_contracts.slm import (
    PenaltyAssessed,
    SlaBreached,
    SlaClockView,
    SlaMet,
    SlaStarted,
    SlaStatus,
)

from .domain import Penalty, SlaClock


def started_event(clock: SlaClock) -> SlaStarted:
    return SlaStarted(clock_id=clock.clock_id, incident_id=clock.incident_id,
                      policy=clock.policy, kind=clock.kind, priority=clock.priority,
                      service=clock.service, target_seconds=clock.target_seconds,
                      started_at=clock.started_at, deadline=clock.deadline)


def met_event(clock: SlaClock, stopped_at: datetime) -> SlaMet:
    return SlaMet(clock_id=clock.clock_id, incident_id=clock.incident_id, kind=clock.kind,
                  stopped_at=stopped_at, elapsed_seconds=clock.elapsed_seconds(stopped_at),
                  target_seconds=clock.target_seconds)


def breached_event(clock: SlaClock, breached_at: datetime) -> SlaBreached:
    return SlaBreached(clock_id=clock.clock_id, incident_id=clock.incident_id,
                       policy=clock.policy, kind=clock.kind, priority=clock.priority,
                       service=clock.service, target_seconds=clock.target_seconds,
                       deadline=clock.deadline, breached_at=breached_at)


def penalty_event(penalty: Penalty) -> PenaltyAssessed:
    return PenaltyAssessed(**asdict(penalty))


def clock_view(clock: SlaClock, now: datetime) -> SlaClockView:
    return SlaClockView(
        clock_id=clock.clock_id, kind=clock.kind, policy=clock.policy, state=clock.state,
        priority=clock.priority, target_seconds=clock.target_seconds,
        started_at=clock.started_at, deadline=clock.deadline, stopped_at=clock.stopped_at,
        elapsed_seconds=clock.elapsed_seconds(now),
        remaining_seconds=clock.remaining_seconds(now),
        percent_consumed=clock.percent_consumed(now))


def sla_status(incident_id: str, clocks: Iterable[SlaClock], penalties: Iterable[Penalty],
               now: datetime) -> SlaStatus:
    """Every clock of the incident as of ``now``; an incident we never saw has none."""
    return SlaStatus(incident_id=incident_id, clocks=[clock_view(c, now) for c in clocks],
                     penalties=[penalty_event(p) for p in penalties])
