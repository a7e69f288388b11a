"""Incident lifecycle and alert de-duplication. Pure: no I/O, no broker, no clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from reasonops_contracts.priority import assess, priority_of


class State(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    ON_HOLD = "on_hold"
    RESOLVED = "resolved"
    CLOSED = "closed"


OPEN_STATES = frozenset({State.NEW, State.ACKNOWLEDGED, State.ON_HOLD})

# action -> states it may be taken from, and the state it leads to
TRANSITIONS: dict[str, tuple[frozenset[State], State]] = {
    "acknowledge": (frozenset({State.NEW}), State.ACKNOWLEDGED),
    "resolve": (frozenset({State.NEW, State.ACKNOWLEDGED, State.ON_HOLD}), State.RESOLVED),
    "close": (frozenset({State.RESOLVED}), State.CLOSED),
    "reopen": (frozenset({State.RESOLVED}), State.NEW),
    "hold": (frozenset({State.NEW, State.ACKNOWLEDGED}), State.ON_HOLD),
    # resume returns to the state held from (see Incident.apply)
    "resume": (frozenset({State.ON_HOLD}), State.ACKNOWLEDGED),
}


class TransitionError(ValueError):
    """An action the incident's current state does not allow."""

    def __init__(self, incident_id: str, action: str, state: State) -> None:
        allowed = sorted(a for a, (src, _) in TRANSITIONS.items() if state in src)
        super().__init__(
            f"cannot {action} {incident_id}: it is {state.value}"
            + (f" (allowed: {', '.join(allowed)})" if allowed else " (no further actions)"))
        self.action = action
        self.state = state


@dataclass
class Alert:
    """What ingest told us about one alert, reduced to what the lifecycle needs."""

    fingerprint: str
    status: str
    name: str
    severity: str
    summary: str
    service: str | None
    resource: str | None
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime | None


@dataclass
class Incident:
    incident_id: str
    title: str
    fingerprint: str
    severity: str
    service: str | None
    resource: str | None
    impact: int
    urgency: int
    priority: int
    priority_reason: str
    opened_at: datetime
    updated_at: datetime
    correlation_id: str
    state: State = State.NEW
    alert_count: int = 1
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    first_alert_at: datetime | None = None
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    note: str | None = None
    rule: str | None = None
    group_key: str | None = None
    assignment_group: str | None = None
    assignment_source: str | None = None
    major: bool = False
    escalation_level: int = 1
    firing_alerts: int = 1
    last_alert_at: datetime | None = None
    last_fingerprint: str | None = None
    probable_cause: dict[str, str] | None = None
    problem_id: str | None = None
    held_from: str | None = None

    def apply(self, action: str, at: datetime, note: str | None = None) -> None:
        """Move through the state machine or raise ``TransitionError``."""
        allowed_from, target = TRANSITIONS[action]
        if self.state not in allowed_from:
            raise TransitionError(self.incident_id, action, self.state)
        if action == "hold":
            self.held_from = self.state.value
        elif action == "resume":
            target = State(self.held_from or State.ACKNOWLEDGED.value)
            self.held_from = None
        self.state = target
        self.updated_at = at
        if note:
            self.note = note
        if target is State.ACKNOWLEDGED and action == "acknowledge":
            self.acknowledged_at = at
        elif target is State.RESOLVED:
            self.resolved_at = at
            self.held_from = None
        elif target is State.CLOSED:
            self.closed_at = at
        elif action == "reopen":
            self.acknowledged_at = self.resolved_at = None


def open_incident(alert: Alert, *, incident_id: str, at: datetime,
                  correlation_id: str) -> Incident:
    assessment = assess(alert.severity, alert.labels)
    return Incident(
        incident_id=incident_id,
        title=alert.summary or alert.name,
        fingerprint=alert.fingerprint,
        severity=alert.severity,
        service=alert.service,
        resource=alert.resource,
        impact=assessment.impact,
        urgency=assessment.urgency,
        priority=assessment.priority,
        priority_reason=assessment.reason,
        opened_at=at,
        updated_at=at,
        correlation_id=correlation_id,
        labels=dict(alert.labels),
        annotations=dict(alert.annotations),
        first_alert_at=alert.starts_at,
    )


def open_by_hand(*, incident_id: str, title: str, impact: int, urgency: int,
                 service: str | None, resource: str | None, labels: dict[str, str],
                 annotations: dict[str, str], at: datetime, correlation_id: str) -> Incident:
    """An incident a person opened (a call to the service desk): its priority is the
    ITIL matrix of the impact and urgency they assessed."""
    priority = priority_of(impact, urgency)
    return Incident(
        incident_id=incident_id, title=title, fingerprint=f"manual-{incident_id}",
        severity=SEVERITY_OF_PRIORITY[priority], service=service, resource=resource,
        impact=impact, urgency=urgency, priority=priority,
        priority_reason=f"assessed by hand: impact {impact}, urgency {urgency} => "
                        f"P{priority}",
        opened_at=at, updated_at=at, correlation_id=correlation_id, labels=labels,
        annotations=annotations, first_alert_at=at, alert_count=0, firing_alerts=0,
        rule="manual")


SEVERITY_OF_PRIORITY = {1: "critical", 2: "error", 3: "warning", 4: "info", 5: "info"}
"""The severity an incident opened by hand carries, by its priority."""


class Outcome(StrEnum):
    OPENED = "opened"
    COUNTED = "counted"
    REOPENED = "reopened"
    RESOLVED = "resolved"
    IGNORED = "ignored"


def route_alert(status: str, state: State | None) -> Outcome:
    """What an alert with ``status`` does to the incident its fingerprint points at,
    given that incident's ``state`` (None when there is none).

    Firing: opens an incident if there is none (or it is closed), counts a repeat on an
    open one, reopens a resolved one. Resolved: resolves an open incident, else nothing.
    """
    if status == "firing":
        if state is None or state is State.CLOSED:
            return Outcome.OPENED
        if state is State.RESOLVED:
            return Outcome.REOPENED
        return Outcome.COUNTED
    if state in OPEN_STATES:
        return Outcome.RESOLVED
    return Outcome.IGNORED
