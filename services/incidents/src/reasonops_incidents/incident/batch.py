"""One batch of accepted alerts: what arrived, what it touches, what was decided.

The shell loads a ``Snapshot`` holding what ``reach`` says the batch may need; the engine
(``engine.py``) changes the snapshot in place and returns ``Decisions``. All of it is
plain data: no I/O.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from reasonops_contracts import Envelope, Event, incident_number
from reasonops_contracts.catalog import ServiceCatalog
from reasonops_contracts.ingest import EventAccepted

from ..silence.domain import Silence
from .correlation import AlertRecord, Group, alert_fields
from .domain import OPEN_STATES, Incident, State
from .rules import Rule, RuleSet
from .timeline import Timeline


@dataclass(frozen=True)
class Arrival:
    """One accepted alert, the rule that matched it and the correlation group it is in."""

    cause: Envelope
    event: EventAccepted
    rule: Rule
    key: str
    fields: dict[str, str]


def route(rules: RuleSet, cause: Envelope, event: EventAccepted) -> Arrival:
    fields = alert_fields(fingerprint=event.fingerprint, name=event.name,
                          severity=event.severity, service=event.service,
                          resource=event.resource, labels=event.labels,
                          group_key=event.group_key, integration=event.integration)
    rule = rules.rule_for(fields)
    return Arrival(cause, event, rule, rule.group_key(fields), fields)


class Silences(Protocol):
    def match(self, fields: dict[str, str], at: datetime) -> Silence | None: ...


@dataclass
class Snapshot:
    """What a batch touches. ``open_by_service`` lists the open incidents of the services
    named in it (None: every incident there is is in ``incidents``); ``last_number`` is the
    last incident number handed out (None: not loaded, the batch cannot open one)."""

    records: dict[str, AlertRecord] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    incidents: dict[str, Incident] = field(default_factory=dict)
    open_by_service: dict[str, list[str]] | None = None
    last_number: int | None = None

    def open_incidents_of(self, services: Iterable[str]) -> list[Incident]:
        if self.open_by_service is None:
            wanted = set(services)
            found = [i for i in self.incidents.values() if i.service in wanted]
        else:
            missing = [s for s in services if s not in self.open_by_service]
            if missing:
                raise LookupError(f"open incidents of {missing} were not loaded")
            found = [self.incidents[i] for s in services for i in self.open_by_service[s]]
        return [i for i in found if i.state in OPEN_STATES]

    def next_incident_id(self) -> str:
        if self.last_number is None:
            raise LookupError("the incident number was not loaded")
        self.last_number += 1
        return incident_number(self.last_number)


def reach(arrivals: Sequence[Arrival], groups: dict[str, Group],
          incidents: dict[str, Incident], catalog: ServiceCatalog | None
          ) -> tuple[set[str], bool]:
    """Beyond the alerts' own records, groups and incidents: the services whose open
    incidents topology may consult, and whether an incident may open. Only a firing alert
    whose group has no incident that is open or resolved (a reopen joins) may open one."""
    services: set[str] = set()
    may_open = False
    for a in arrivals:
        if a.event.status != "firing":
            continue
        group = groups.get(a.key)
        incident = incidents.get(group.incident_id or "") if group is not None else None
        if incident is not None and incident.state is not State.CLOSED:
            continue
        may_open = True
        if catalog is not None and a.event.service:
            services.update(catalog.dependents_of(a.event.service))
            services.update(catalog.dependencies_of(a.event.service))
    return services, may_open


def pending_members(groups: Iterable[Group]) -> set[str]:
    """Fingerprints waiting in groups: their records are claimed when the group opens."""
    return {fp for g in groups for fp in g.pending}


@dataclass(frozen=True)
class Publish:
    """An event about ``incident``, caused by the alert message ``cause``."""

    event: Event
    incident: Incident
    cause: Envelope


@dataclass(frozen=True)
class Opening:
    incident: Incident
    cause: Envelope
    priority: int  # at opening; a later alert of the batch may raise it


@dataclass
class Decisions:
    """What one batch decided, in the order it decided it."""

    created: dict[str, Incident] = field(default_factory=dict)
    changed: set[str] = field(default_factory=set)
    """incidents to write whole (not created in this batch)"""
    bumps: Counter[str] = field(default_factory=Counter)
    """incident -> alerts counted; written as an increment unless written whole"""
    last_alert: dict[str, datetime] = field(default_factory=dict)
    new_records: set[str] = field(default_factory=set)
    new_groups: set[str] = field(default_factory=set)
    changed_groups: set[str] = field(default_factory=set)
    silenced: Counter[str] = field(default_factory=Counter)
    """silence -> alerts it matched"""
    outcomes: list[str] = field(default_factory=list)
    """one per arrival: opened, joined, counted, reopened, resolved, pending, ..."""
    timeline: Timeline = field(default_factory=Timeline)
    events: list[Publish] = field(default_factory=list)
    opened: list[Opening] = field(default_factory=list)
    transitions: list[tuple[str, Incident]] = field(default_factory=list)

    def touch(self, incident: Incident) -> None:
        """The incident changed beyond its counters: write it whole."""
        if incident.incident_id not in self.created:
            self.changed.add(incident.incident_id)

    def count(self, incident: Incident, at: datetime) -> None:
        """One more alert; written as an increment unless the incident is written whole."""
        incident.alert_count += 1
        incident.last_alert_at = at
        self.bumps[incident.incident_id] += 1
        self.last_alert[incident.incident_id] = at

    def publish(self, event: Event | None, incident: Incident, cause: Envelope) -> None:
        if event is not None:
            self.events.append(Publish(event, incident, cause))
