"""A simulated month as the events the agent consumes (for the evaluation): each
incident opened with its two clocks, acknowledged, resolved, and each clock met or
breached, in time order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from reasonops_contracts import Event
from reasonops_contracts.incidents import IncidentAcknowledged, IncidentOpened, IncidentResolved
from reasonops_contracts.slm import SlaBreached, SlaMet, SlaStarted

from .month import Handled, Month


@dataclass(frozen=True)
class Outcome:
    """What really happened to a clock."""

    clock_id: str
    kind: str
    deadline: datetime
    breached: bool


def month_events(month: Month, handled: list[Handled]
                 ) -> tuple[list[tuple[datetime, Event]], dict[str, Outcome]]:
    found: list[tuple[datetime, Event]] = []
    outcomes: dict[str, Outcome] = {}
    for h in handled:
        found.append((h.opened_at, IncidentOpened(
            incident_id=h.incident_id, title=f"{h.group} incident", severity="error",
            impact=2, urgency=2, priority=h.priority, priority_reason="simulated",
            fingerprint=h.incident_id, opened_at=h.opened_at, assignment_group=h.group)))
        found.append((h.acknowledged_at, IncidentAcknowledged(
            incident_id=h.incident_id, acknowledged_at=h.acknowledged_at, actor="user:sim")))
        found.append((h.resolved_at, IncidentResolved(
            incident_id=h.incident_id, resolved_at=h.resolved_at, actor="user:sim")))
        for kind, done in (("response", h.acknowledged_at), ("resolution", h.resolved_at)):
            target = int(month.targets[kind][h.priority] * 60)
            deadline = h.opened_at + timedelta(seconds=target)
            clock_id = f"{h.incident_id}-{kind}"
            found.append((h.opened_at, SlaStarted(
                clock_id=clock_id, incident_id=h.incident_id, policy="simulated",
                kind=kind, priority=h.priority, target_seconds=target,  # type: ignore[arg-type]
                started_at=h.opened_at, deadline=deadline)))
            breached = done > deadline
            outcomes[clock_id] = Outcome(clock_id, kind, deadline, breached)
            if breached:
                found.append((deadline, SlaBreached(
                    clock_id=clock_id, incident_id=h.incident_id, policy="simulated",
                    kind=kind, priority=h.priority, target_seconds=target,  # type: ignore[arg-type]
                    deadline=deadline, breached_at=deadline)))
            else:
                found.append((done, SlaMet(
                    clock_id=clock_id, incident_id=h.incident_id, kind=kind,  # type: ignore[arg-type]
                    stopped_at=done, elapsed_seconds=(done - h.opened_at).total_seconds(),
                    target_seconds=target)))
    found.sort(key=lambda pair: pair[0])
    return found, outcomes
