"""SLA clocks and penalties -> the events SLM publishes."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from reasonops_contracts.slm import (
    PenaltyAssessed,
    SlaAtRisk,
    SlaBreached,
    SlaMet,
    SlaPaused,
    SlaResumed,
    SlaStarted,
)

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
