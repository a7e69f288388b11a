"""Correlation decisions, pure: flapping, the pending window, resolve_on, priority, assignment.

Times here are the alerts' own (``received_at`` from ingest), so a replay decides the same
way however fast it is consumed. An entry at time ``t`` is inside a window of ``w``
seconds at time ``now`` while ``now - t < w``: at exactly ``t + w`` it has expired.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from reasonops_contracts.catalog import ServiceCatalog
from reasonops_contracts.ingest import EventAccepted
from reasonops_contracts.priority import Assessment, assess

from .domain import Alert, Incident, open_incident
from .rules import Flapping, Rule

PENDING_CAP = 1000  # distinct alerts a pending group remembers; thresholds are far lower


@dataclass
class AlertRecord:
    """What the service remembers about one alert fingerprint."""

    fingerprint: str
    status: str
    last_seen_at: datetime
    incident_id: str | None = None
    group_key: str | None = None
    changes: list[datetime] = field(default_factory=list)
    flapping: bool = False
    silenced_by: str | None = None
    name: str | None = None
    service: str | None = None
    resource: str | None = None


class Pending(NamedTuple):
    """A firing alert waiting in a group for create_on."""

    at: datetime
    resource: str
    severity: str = "warning"
    impact: int = 2
    urgency: int = 2
    priority: int = 3


@dataclass
class Group:
    """A correlation group: its open (or last) incident, or alerts waiting for create_on."""

    key: str
    rule: str
    incident_id: str | None = None
    pending: dict[str, Pending] = field(default_factory=dict)
    """fingerprint -> the alert's last firing time, resource and assessment"""


def alert_fields(*, fingerprint: str, name: str, severity: str, service: str | None,
                 resource: str | None, labels: Mapping[str, str], group_key: str | None = None,
                 integration: str | None = None) -> dict[str, str]:
    """What matchers and group_by see: the labels plus the alert's own fields.

    ``sender_group`` is the group the sender put the alert in (an Alertmanager or
    Grafana ``groupKey``, per integration), or the alert alone (its fingerprint) when
    the sender groups nothing: the default rule groups by it.
    """
    fields = dict(labels)
    fields.update(fingerprint=fingerprint, alertname=labels.get("alertname") or name,
                  severity=severity, service=service or labels.get("service", ""),
                  resource=resource or "", group_key=group_key or "",
                  integration=integration or "",
                  sender_group=(f"{integration or ''}/{group_key}" if group_key
                                else f"alert/{fingerprint}"))
    return fields


def within(earlier: datetime, now: datetime, seconds: int) -> bool:
    return now - earlier < timedelta(seconds=seconds)


@dataclass(frozen=True)
class FlapResult:
    changed: bool
    flapping: bool
    started: bool
    stopped: bool


def track_flapping(record: AlertRecord, status: str, at: datetime, spec: Flapping) -> FlapResult:
    """Count a state change; more than ``spec.changes`` inside the window is flapping."""
    changed = record.status in ("firing", "resolved") and record.status != status
    if changed:
        record.changes.append(at)
    record.changes = [c for c in record.changes if within(c, at, spec.window)][-(spec.changes + 1):]
    was = record.flapping
    record.flapping = len(record.changes) > spec.changes
    return FlapResult(changed, record.flapping, record.flapping and not was,
                      was and not record.flapping)


def admit(group: Group, rule: Rule, fingerprint: str, entry: Pending) -> bool:
    """Add a firing alert to a group without an incident; True when create_on is met."""
    at = entry.at
    group.pending = {fp: v for fp, v in group.pending.items() if within(v.at, at, rule.window)}
    group.pending.pop(fingerprint, None)
    group.pending[fingerprint] = entry
    while len(group.pending) > PENDING_CAP:
        group.pending.pop(next(iter(group.pending)))
    if rule.create_on == "first":
        return True
    if rule.create_on == "alerts":
        return len(group.pending) >= rule.threshold
    return len({p.resource for p in group.pending.values()}) >= rule.threshold


def should_resolve(rule: Rule | None, incident: Incident, fingerprint: str) -> bool:
    """After ``fingerprint`` resolved (firing_alerts already counted down)."""
    resolve_on = rule.resolve_on if rule is not None else "all"
    if resolve_on == "first":
        return True
    if resolve_on == "last":
        return fingerprint == incident.last_fingerprint
    if resolve_on == "all":
        return incident.firing_alerts <= 0
    return False


def assessor(catalog: ServiceCatalog | None) -> Callable[[str, Mapping[str, str], str | None],
                                                         Assessment]:
    """Priority from severity and labels, with a tier-1 catalog service at impact 1."""
    def run(severity: str, labels: Mapping[str, str], service: str | None) -> Assessment:
        entry = catalog.get(service) if catalog is not None else None

        def adjust(impact: int, urgency: int, reasons: list[str]) -> tuple[int, int]:
            if entry is not None and entry.tier == 1 and impact > 1:
                reasons.append(f"catalog: {entry.name} is tier 1 -> impact 1")
                return 1, urgency
            return impact, urgency
        return assess(severity, labels, adjust)
    return run


def raise_priority(incident: Incident, new: Assessment, why: str) -> int | None:
    """Take a higher priority (a lower number); never lower. Returns the previous one."""
    if new.priority >= incident.priority:
        return None
    previous = incident.priority
    incident.impact = min(incident.impact, new.impact)
    incident.urgency = min(incident.urgency, new.urgency)
    incident.priority = new.priority
    incident.priority_reason = f"{why}: {new.reason}"
    return previous


def choose_assignment(precedence: tuple[str, ...], candidates: Mapping[str, str | None]
                      ) -> tuple[str, str] | None:
    """(group, source) from the first source in ``precedence`` that names a group."""
    for source in precedence:
        group = candidates.get(source)
        if group:
            return group, source
    return None


def outranks(precedence: tuple[str, ...], source: str, current: str | None) -> bool:
    """Does ``source`` beat the source of the current assignment? A person always wins."""
    if current is None:
        return True
    if current == "user":
        return False
    if source == "user":
        return True
    rank = {s: i for i, s in enumerate(precedence)}
    return rank.get(source, len(rank)) < rank.get(current, len(rank))


def incident_of_group(event: EventAccepted, group: Group, rule: Rule, assessment: Assessment,
                      *, incident_id: str, at: datetime, now: datetime,
                      correlation_id: str) -> Incident:
    """The incident a group opens when ``event`` meets its rule's ``create_on``: at the
    highest priority of the group's pending alerts, over all their resources."""
    alert = Alert(fingerprint=event.fingerprint, status=event.status, name=event.name,
                  severity=event.severity, summary=event.summary, service=event.service,
                  resource=event.resource, labels=event.labels,
                  annotations=event.annotations, starts_at=event.starts_at)
    incident = open_incident(alert, incident_id=incident_id, at=now,
                             correlation_id=correlation_id)
    incident.impact, incident.urgency = assessment.impact, assessment.urgency
    incident.priority, incident.priority_reason = assessment.priority, assessment.reason
    _, worst = min(group.pending.items(), key=lambda kv: (kv[1].priority, kv[1].at))
    if worst.priority < incident.priority:
        incident.impact, incident.urgency, incident.priority = (
            worst.impact, worst.urgency, worst.priority)
        incident.priority_reason = (f"highest of the grouped alerts ({worst.severity} "
                                    f"on {worst.resource}) => P{worst.priority}")
    incident.rule, incident.group_key = rule.name, group.key
    incident.alert_count = incident.firing_alerts = len(group.pending)
    incident.last_alert_at, incident.last_fingerprint = at, event.fingerprint
    if len({p.resource for p in group.pending.values()}) > 1:
        incident.resource = None
    return incident
