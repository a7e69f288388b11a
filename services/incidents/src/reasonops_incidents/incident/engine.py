"""The correlation engine: a batch of accepted alerts and what they touch -> decisions.

Pure: no I/O, no broker, no clock (``now`` is given). The shell (``handlers.py``) loads a
``Snapshot`` with everything the batch can need (``batch.reach``), calls ``decide``, then
writes what changed and publishes the events. As the orchestrator's engine does with its
instance, ``decide`` changes the snapshot in place and says in ``Decisions`` what it
changed and what to publish. Windows are decided on the alerts' own times
(``received_at``), so a replay decides alike however fast it runs; ``now`` stamps.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from reasonops_contracts import Envelope
from reasonops_contracts.catalog import ServiceCatalog
from reasonops_contracts.ingest import EventAccepted

from . import topology
from .batch import Arrival, Decisions, Opening, Silences, Snapshot
from .correlation import (
    AlertRecord,
    Group,
    Pending,
    admit,
    assessor,
    choose_assignment,
    incident_of_group,
    raise_priority,
    should_resolve,
    track_flapping,
)
from .domain import OPEN_STATES, Incident, State
from .escalation import assignment_news, declare_major, opened_news
from .events import priority_event, transition_event
from .rules import Rule, RuleSet

SYSTEM = "incidents"
MONITORING = "monitoring"  # the actor of transitions an alert causes


def decide(snapshot: Snapshot, arrivals: Sequence[Arrival], rules: RuleSet,
           catalog: ServiceCatalog | None, silences: Silences, now: datetime) -> Decisions:
    """Correlate ``arrivals`` in order against ``snapshot`` (changed in place)."""
    engine = _Engine(snapshot, rules, catalog, silences, now)
    for arrival in arrivals:
        engine.decisions.outcomes.append(engine.one(arrival))
    return engine.decisions


class _Engine:
    def __init__(self, snapshot: Snapshot, rules: RuleSet, catalog: ServiceCatalog | None,
                 silences: Silences, now: datetime) -> None:
        self.s = snapshot
        self.rules = rules
        self.catalog = catalog
        self.silences = silences
        self.now = now
        self.assess = assessor(catalog)
        self.decisions = Decisions()
        self.timeline = self.decisions.timeline

    # -- the snapshot's rows -------------------------------------------------------------
    def _record(self, event: EventAccepted, at: datetime) -> AlertRecord:
        record = self.s.records.get(event.fingerprint)
        if record is None:
            record = self.s.records[event.fingerprint] = AlertRecord(
                fingerprint=event.fingerprint, status="new", last_seen_at=at)
            self.decisions.new_records.add(event.fingerprint)
        record.name, record.service, record.resource = event.name, event.service, event.resource
        record.last_seen_at = at
        return record

    def _group(self, key: str, rule: Rule) -> Group:
        group = self.s.groups.get(key)
        if group is None:
            group = self.s.groups[key] = Group(key=key, rule=rule.name)
            self.decisions.new_groups.add(key)
        self.decisions.changed_groups.add(key)
        return group

    def _incident(self, incident_id: str | None) -> Incident | None:
        return self.s.incidents.get(incident_id) if incident_id else None

    # -- one alert -----------------------------------------------------------------------
    def one(self, a: Arrival) -> str:
        event, at = a.event, a.event.received_at
        record = self._record(event, at)
        if event.status == "firing":
            silence = self.silences.match(a.fields, at)
            if silence is not None:
                return self._silenced(record, silence.silence_id, at)
        if record.silenced_by is not None:
            record.silenced_by = None
        flap = track_flapping(record, event.status, at, a.rule.flapping)
        incident = self._incident(record.incident_id)
        if flap.started and incident is not None:
            self.timeline.add(incident.incident_id, at, SYSTEM, "flapping",
                              f"alert {event.name} on {event.resource or '-'} is flapping "
                              f"({len(record.changes)} changes within "
                              f"{a.rule.flapping.window}s); its churn is ignored",
                              fingerprint=event.fingerprint)
        if flap.flapping and incident is not None and incident.state is not State.CLOSED:
            # Churn of a flapping alert neither resolves nor reopens anything.
            if flap.changed and incident.state in OPEN_STATES:
                incident.firing_alerts += 1 if event.status == "firing" else -1
                incident.firing_alerts = max(0, incident.firing_alerts)
            record.status = event.status
            if event.status == "firing":
                self.decisions.count(incident, at)
            return "flapping"
        if event.status == "firing":
            return self._firing(a, record, at)
        return self._resolved(a, record, at, settled=flap.stopped)

    def _firing(self, a: Arrival, record: AlertRecord, at: datetime) -> str:
        event = a.event
        current = self._incident(record.incident_id)
        if current is not None and current.state in OPEN_STATES and record.status == "firing":
            self.decisions.count(current, at)  # a repeat: the hot path
            return "counted"
        group = self._group(a.key, a.rule)
        incident = self._incident(group.incident_id)
        reopened = False
        if incident is not None and incident.state is State.RESOLVED:
            self._transition(a.cause, incident, "reopen", f"alert {event.name} firing again",
                             at)
            reopened = True
        if incident is not None and incident.state in OPEN_STATES:
            joined = record.incident_id != incident.incident_id
            self._join(a.cause, incident, event, record, at)
            return "reopened" if reopened else "joined" if joined else "counted"
        target = self._dependent_incident(event, a.rule, at)
        if target is not None:
            self._attach_cause(a.cause, target, event, record, at)
            return "probable_cause"
        group.incident_id = None
        record.status, record.group_key, record.incident_id = "firing", a.key, None
        assessment = self.assess(event.severity, event.labels, event.service)
        entry = Pending(at, event.resource or event.fingerprint, event.severity,
                        assessment.impact, assessment.urgency, assessment.priority)
        if not admit(group, a.rule, event.fingerprint, entry):
            return "pending"
        self._open(a, group, at)
        return "opened"

    def _join(self, cause: Envelope, incident: Incident, event: EventAccepted,
              record: AlertRecord, at: datetime) -> None:
        newcomer = record.incident_id != incident.incident_id
        if newcomer or record.status != "firing":
            incident.firing_alerts += 1
        record.status, record.incident_id = "firing", incident.incident_id
        record.group_key = incident.group_key
        incident.last_fingerprint = event.fingerprint
        if incident.resource != event.resource:
            incident.resource = None if newcomer else incident.resource
        incident.updated_at = self.now
        self.decisions.touch(incident)
        self.decisions.count(incident, at)
        if newcomer:
            self.timeline.add(incident.incident_id, at, SYSTEM, "alert_joined",
                              f"alert {event.name} ({event.severity}) on "
                              f"{event.resource or event.service or '-'} joined",
                              fingerprint=event.fingerprint)
            self._reassess(cause, incident, event, at)

    def _reassess(self, cause: Envelope, incident: Incident, event: EventAccepted,
                  at: datetime) -> None:
        assessment = self.assess(event.severity, event.labels, event.service)
        previous = raise_priority(incident, assessment,
                                  f"raised when {event.name} ({event.severity}) joined")
        if previous is None:
            return
        self.timeline.add(incident.incident_id, at, SYSTEM, "priority_changed",
                          f"P{previous} -> P{incident.priority}: {incident.priority_reason}")
        self.decisions.publish(priority_event(incident, previous, self.now, SYSTEM), incident,
                               cause)
        self.decisions.touch(incident)
        if incident.priority == 1:
            major = declare_major(incident, self.now, SYSTEM, "priority raised to P1",
                                  self.timeline)
            self.decisions.publish(major, incident, cause)

    def _open(self, a: Arrival, group: Group, at: datetime) -> None:
        event, rule = a.event, a.rule
        members = list(group.pending)
        resources = {p.resource for p in group.pending.values()}
        incident = incident_of_group(
            event, group, rule, self.assess(event.severity, event.labels, event.service),
            incident_id=self.s.next_incident_id(), at=at, now=self.now,
            correlation_id=a.cause.correlation_id)
        for fp in members:
            member = self.s.records.get(fp)
            if member is not None:
                member.incident_id, member.status, member.group_key = (
                    incident.incident_id, "firing", group.key)
        group.incident_id, group.pending = incident.incident_id, {}
        self.decisions.created[incident.incident_id] = incident
        self.s.incidents[incident.incident_id] = incident
        if self.s.open_by_service is not None and incident.service in self.s.open_by_service:
            self.s.open_by_service[incident.service].append(incident.incident_id)
        why = ("first alert" if rule.create_on == "first" else
               f"{len(members)} alerts on {len(resources)} resources within {rule.window}s")
        self._probable_cause_of(incident, at)
        chosen = choose_assignment(self.rules.precedence, {
            "rule": rule.assign_to, "catalog": topology.owner_of(self.catalog, incident.service)})
        if chosen is not None:
            incident.assignment_group, incident.assignment_source = chosen
        self.decisions.publish(opened_news(incident, self.silences, at), incident, a.cause)
        self.timeline.add(incident.incident_id, at, SYSTEM, "opened",
                          f"opened by rule {rule.name} ({why}); P{incident.priority}: "
                          f"{incident.priority_reason}", group=group.key)
        self.decisions.opened.append(Opening(incident, a.cause, incident.priority))
        self.decisions.publish(assignment_news(incident, None, self.now, SYSTEM,
                                               self.timeline), incident, a.cause)
        if incident.priority == 1:
            self.decisions.publish(declare_major(incident, self.now, SYSTEM, "opened at P1",
                                                 self.timeline), incident, a.cause)

    # -- topology ------------------------------------------------------------------------
    def _dependent_incident(self, event: EventAccepted, rule: Rule, at: datetime
                            ) -> Incident | None:
        """An open incident of a service that depends on this alert's service, with an
        alert inside the window: this alert is its probable cause."""
        return topology.dependent_incident(self.catalog, self.s.open_incidents_of,
                                           event.service, rule.window, at)

    def _attach_cause(self, cause: Envelope, incident: Incident, event: EventAccepted,
                      record: AlertRecord, at: datetime) -> None:
        self._join(cause, incident, event, record, at)
        if incident.probable_cause is None:
            incident.probable_cause = topology.probable_cause(
                event.service, "", event.name, event.resource, event.fingerprint, at,
                f"{incident.service} depends on {event.service}")
            self.timeline.add(incident.incident_id, at, SYSTEM, "probable_cause",
                              f"probable cause: {event.service} ({event.name} on "
                              f"{event.resource or '-'}); {incident.service} depends on it")

    def _probable_cause_of(self, incident: Incident, at: datetime) -> None:
        rule = self.rules.by_name(incident.rule)
        cause = topology.cause_of(self.catalog, self.s.open_incidents_of, incident,
                                  rule.window if rule else 300, at)
        if cause is None:
            return
        incident.probable_cause = topology.probable_cause(
            cause.service, cause.incident_id, cause.title, cause.resource, cause.fingerprint,
            at, f"{incident.service} depends on {cause.service}, which has "
                f"{cause.incident_id} open")
        self.timeline.add(incident.incident_id, at, SYSTEM, "probable_cause",
                          f"probable cause: {cause.service} ({cause.incident_id}: "
                          f"{cause.title})", incident=cause.incident_id)

    # -- resolved ------------------------------------------------------------------------
    def _resolved(self, a: Arrival, record: AlertRecord, at: datetime, *,
                  settled: bool = False) -> str:
        """``settled``: the alert just stopped flapping; its state now counts again."""
        event = a.event
        was_firing = record.status == "firing"
        record.status = "resolved"
        incident = self._incident(record.incident_id)
        if incident is None:
            group = self.s.groups.get(record.group_key or "")
            if group is not None and event.fingerprint in group.pending:
                del group.pending[event.fingerprint]
                self.decisions.changed_groups.add(group.key)
            return "ignored"
        if incident.state not in OPEN_STATES or not (was_firing or settled):
            return "ignored"
        incident.firing_alerts = max(0, incident.firing_alerts - was_firing)
        incident.updated_at = self.now
        self.decisions.touch(incident)
        if should_resolve(self.rules.by_name(incident.rule), incident, event.fingerprint):
            self._transition(a.cause, incident, "resolve", f"alert {event.name} resolved", at)
            return "resolved"
        return "counted"

    def _transition(self, cause: Envelope, incident: Incident, action: str, note: str,
                    at: datetime) -> None:
        before = incident.state.value
        incident.apply(action, self.now, note)
        self.decisions.touch(incident)
        self.decisions.publish(transition_event(action, incident, self.now, MONITORING, note),
                               incident, cause)
        self.timeline.add(incident.incident_id, at, MONITORING, "state_changed",
                          f"{before} -> {incident.state.value}: {note}")
        self.decisions.transitions.append((action, incident))

    def _silenced(self, record: AlertRecord, silence_id: str, at: datetime) -> str:
        incident = self._incident(record.incident_id)
        if record.silenced_by != silence_id and incident is not None \
                and incident.state in OPEN_STATES:
            self.timeline.add(incident.incident_id, at, SYSTEM, "alert_silenced",
                              f"alert {record.name} on {record.resource or '-'} silenced by "
                              f"{silence_id}", silence=silence_id)
        record.silenced_by = silence_id
        if record.status == "new":
            record.status = "silenced"
        self.decisions.silenced[silence_id] += 1
        return "silenced"
