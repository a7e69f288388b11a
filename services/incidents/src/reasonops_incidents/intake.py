"""Alert intake: a whole batch of accepted alerts correlated into incidents in a few queries.

Per batch: one read each for the alerts' records, their correlation groups and the
incidents those point at; then the decisions (``correlation``), then one bulk write per
table. Nothing here scans closed incidents: every lookup is by key, so the cost of a
batch does not grow with history.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from reasonops_contracts import Envelope
from reasonops_contracts.catalog import ServiceCatalog
from reasonops_contracts.ingest import EventAccepted
from reasonops_runtime import Clock, Delivery, Transaction, envelope_of

from . import store
from .correlation import (
    AlertRecord,
    Group,
    Pending,
    admit,
    alert_fields,
    assessor,
    choose_assignment,
    raise_priority,
    should_resolve,
    track_flapping,
    within,
)
from .domain import OPEN_STATES, Alert, Incident, State, open_incident
from .escalation import Escalations
from .events import emit, opened_event, priority_event, transition_event
from .metrics import IncidentMetrics
from .problems import Problems
from .rules import Rule, RuleFile, RuleSet
from .silence_book import SilenceBook
from .timeline import Timeline

SYSTEM = "incidents"


class Batch:
    """The records, groups and incidents one batch touches, and what it changed."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self.records: dict[str, AlertRecord] = {}
        self.new_records: set[str] = set()
        self.groups: dict[str, Group] = {}
        self.new_groups: set[str] = set()
        self.dirty_groups: set[str] = set()
        self.incidents: dict[str, Incident] = {}
        self.created: dict[str, Incident] = {}
        self.dirty: set[str] = set()
        self.open_by_service: dict[str, list[str]] = {}
        self.silenced: Counter[str] = Counter()
        self.bumps: Counter[str] = Counter()
        self.last_alert: dict[str, datetime] = {}
        self._loaded_as: dict[str, tuple[object, ...]] = {}

    async def load(self, items: list[tuple[Envelope, EventAccepted, Rule, str]]) -> None:
        session = self.tx.session
        self.records = await store.load_records(session, {e.fingerprint for _, e, _, _ in items})
        self._loaded_as = {fp: _signature(r) for fp, r in self.records.items()}
        self.groups = await store.load_groups(session, {k for _, _, _, k in items})
        ids = {r.incident_id for r in self.records.values() if r.incident_id}
        ids |= {g.incident_id for g in self.groups.values() if g.incident_id}
        self.incidents = await store.load_incidents(session, ids)

    def record(self, event: EventAccepted, at: datetime) -> AlertRecord:
        record = self.records.get(event.fingerprint)
        if record is None:
            record = self.records[event.fingerprint] = AlertRecord(
                fingerprint=event.fingerprint, status="new", last_seen_at=at)
            self.new_records.add(event.fingerprint)
        record.name, record.service, record.resource = event.name, event.service, event.resource
        record.last_seen_at = at
        return record

    def group(self, key: str, rule: Rule) -> Group:
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = Group(key=key, rule=rule.name)
            self.new_groups.add(key)
        self.dirty_groups.add(key)
        return group

    def state(self, incident_id: str | None) -> State | None:
        incident = self.incidents.get(incident_id) if incident_id else None
        return incident.state if incident else None

    def touch(self, incident: Incident) -> None:
        """The incident changed beyond its counters: write it whole."""
        if incident.incident_id not in self.created:
            self.dirty.add(incident.incident_id)

    def count(self, incident: Incident, at: datetime) -> None:
        """One more alert; written as an increment unless the incident is written whole."""
        incident.alert_count += 1
        incident.last_alert_at = at
        self.bumps[incident.incident_id] += 1
        self.last_alert[incident.incident_id] = at

    async def more_records(self, fingerprints: list[str]) -> None:
        missing = [fp for fp in fingerprints if fp not in self.records]
        if missing:
            found = await store.load_records(self.tx.session, missing)
            self.records.update(found)
            self._loaded_as.update({fp: _signature(r) for fp, r in found.items()})

    async def open_incidents_of(self, services: tuple[str, ...]) -> list[Incident]:
        wanted = [s for s in services if s not in self.open_by_service]
        if wanted:
            for s in wanted:
                self.open_by_service[s] = []
            for incident in await store.open_incidents_of(self.tx.session, wanted):
                incident = self.incidents.setdefault(incident.incident_id, incident)
                self.open_by_service[incident.service or ""].append(incident.incident_id)
            for incident in self.created.values():  # opened in this batch, not yet written
                if incident.service in wanted:
                    self.open_by_service[incident.service or ""].append(incident.incident_id)
        found = [self.incidents[i] for s in services for i in self.open_by_service.get(s, [])]
        return [i for i in found if i.state in OPEN_STATES]

    async def save(self, now: datetime) -> None:
        session = self.tx.session
        await store.save(session, created=list(self.created.values()),
                         changed=[self.incidents[i] for i in self.dirty])
        whole = self.dirty | set(self.created)
        await store.bump_counts(session, {i: n for i, n in self.bumps.items() if i not in whole},
                                self.last_alert, now)
        # Most alerts in a storm are repeats that change nothing worth a write.
        await store.save_records(
            session, [self.records[fp] for fp in self.new_records],
            [r for fp, r in self.records.items() if fp not in self.new_records
             and self._loaded_as.get(fp) != _signature(r)])
        await store.save_groups(
            session, [self.groups[k] for k in self.new_groups],
            [self.groups[k] for k in self.dirty_groups - self.new_groups])


class AlertIntake:
    """The incident service's batch handler for ``EventAccepted``."""

    def __init__(self, clock: Clock, metrics: IncidentMetrics, *, rules: RuleFile,
                 catalog: ServiceCatalog | None, silences: SilenceBook,
                 escalations: Escalations, problems: Problems) -> None:
        self.clock = clock
        self.metrics = metrics
        self.rules = rules
        self.catalog = catalog
        self.silences = silences
        self.escalations = escalations
        self.problems = problems
        self.assess = assessor(catalog)

    def decode(self, delivery: Delivery) -> tuple[Envelope, EventAccepted]:
        envelope = envelope_of(delivery)
        return envelope, envelope.decode(EventAccepted)

    def key(self, item: tuple[Envelope, EventAccepted]) -> str:
        return item[0].id

    @staticmethod
    def tx_span(tx: Transaction, envelope: Envelope, event: EventAccepted, rule: Rule,
                key: str) -> AbstractContextManager[Any]:
        """The correlation decision for one alert, as a span under its message's span."""
        return tx.span("incident.correlate", cause=envelope, attributes={
            "reasonops.fingerprint": event.fingerprint, "reasonops.correlation.rule": rule.name,
            "reasonops.correlation.group": key})

    async def __call__(self, tx: Transaction, batch: Sequence[tuple[Delivery, Any]]) -> None:
        ruleset = self.rules.current()
        self.metrics.rules_refused.set(1 if self.rules.error else 0)
        await self.silences.refresh(tx.session)
        items = []
        for _, (envelope, event) in batch:
            fields = alert_fields(fingerprint=event.fingerprint, name=event.name,
                                  severity=event.severity, service=event.service,
                                  resource=event.resource, labels=event.labels)
            rule = ruleset.rule_for(fields)
            items.append((envelope, event, rule, rule.group_key(fields), fields))
        work = Batch(tx)
        await work.load([(e, ev, r, k) for e, ev, r, k, _ in items])
        run = _Run(self, tx, work, ruleset, store.Numbers(tx.session))
        for envelope, event, rule, key, fields in items:
            with self.tx_span(tx, envelope, event, rule, key):
                await run.one(envelope, event, rule, key, fields)
        await work.save(self.clock.now())
        await self.problems.on_opened(tx, list(work.created.values()), ruleset, run.numbers,
                                      run.timeline, self.clock.now(), run.origins)
        await run.numbers.save()
        await self.silences.count(tx.session, work.silenced)
        await run.timeline.save(tx.session)
        for outcome, count in run.outcomes.items():
            self.metrics.alerts.labels(outcome).inc(count)


class _Run:
    """One batch's decisions, alert by alert."""

    def __init__(self, intake: AlertIntake, tx: Transaction, work: Batch, rules: RuleSet,
                 numbers: store.Numbers) -> None:
        self.i = intake
        self.tx = tx
        self.work = work
        self.rules = rules
        self.numbers = numbers
        self.timeline = Timeline()
        self.outcomes: Counter[str] = Counter()
        self.origins: dict[str, Envelope] = {}

    async def one(self, envelope: Envelope, event: EventAccepted, rule: Rule, key: str,
                  fields: dict[str, str]) -> None:
        at = event.received_at
        record = self.work.record(event, at)
        if event.status == "firing":
            silence = self.i.silences.match(fields, at)
            if silence is not None:
                self._silenced(record, silence.silence_id, at)
                return
        if record.silenced_by is not None:
            record.silenced_by = None
        flap = track_flapping(record, event.status, at, rule.flapping)
        incident = self.work.incidents.get(record.incident_id or "")
        if flap.started and incident is not None:
            self.timeline.add(incident.incident_id, at, SYSTEM, "flapping",
                              f"alert {event.name} on {event.resource or '-'} is flapping "
                              f"({len(record.changes)} changes within "
                              f"{rule.flapping.window}s); its churn is ignored",
                              fingerprint=event.fingerprint)
        if flap.flapping and incident is not None and incident.state is not State.CLOSED:
            # Churn of a flapping alert neither resolves nor reopens anything.
            if flap.changed and incident.state in OPEN_STATES:
                incident.firing_alerts += 1 if event.status == "firing" else -1
                incident.firing_alerts = max(0, incident.firing_alerts)
            record.status = event.status
            if event.status == "firing":
                self._count(incident, at, event.fingerprint)
            self.outcomes["flapping"] += 1
            return
        if event.status == "firing":
            await self._firing(envelope, event, rule, key, record, at)
        else:
            await self._resolved(envelope, event, record, at, settled=flap.stopped)

    # -- firing --------------------------------------------------------------------------
    async def _firing(self, envelope: Envelope, event: EventAccepted, rule: Rule, key: str,
                      record: AlertRecord, at: datetime) -> None:
        current = self.work.incidents.get(record.incident_id or "")
        if current is not None and current.state in OPEN_STATES and record.status == "firing":
            self._count(current, at, event.fingerprint)  # a repeat: the hot path
            self.outcomes["counted"] += 1
            return
        group = self.work.group(key, rule)
        incident = self.work.incidents.get(group.incident_id or "")
        if incident is not None and incident.state is State.RESOLVED:
            self._transition(envelope, incident, "reopen",
                             f"alert {event.name} firing again", at)
            self.outcomes["reopened"] += 1
        if incident is not None and incident.state in OPEN_STATES:
            self._join(envelope, incident, event, record, at)
            self.outcomes["counted" if record.incident_id == incident.incident_id else
                          "joined"] += 1
            return
        target = await self._dependent_incident(event, rule, at)
        if target is not None:
            self._attach_cause(envelope, target, event, record, at)
            self.outcomes["probable_cause"] += 1
            return
        group.incident_id = None
        record.status, record.group_key, record.incident_id = "firing", key, None
        assessment = self.i.assess(event.severity, event.labels, event.service)
        entry = Pending(at, event.resource or event.fingerprint, event.severity,
                        assessment.impact, assessment.urgency, assessment.priority)
        if not admit(group, rule, event.fingerprint, entry):
            self.outcomes["pending"] += 1
            return
        await self._open(envelope, event, rule, group, at)
        self.outcomes["opened"] += 1

    def _count(self, incident: Incident, at: datetime, fingerprint: str) -> None:
        self.work.count(incident, at)

    def _join(self, envelope: Envelope, incident: Incident, event: EventAccepted,
              record: AlertRecord, at: datetime) -> None:
        newcomer = record.incident_id != incident.incident_id
        if newcomer or record.status != "firing":
            incident.firing_alerts += 1
        record.status, record.incident_id = "firing", incident.incident_id
        record.group_key = incident.group_key
        incident.last_fingerprint = event.fingerprint
        if incident.resource != event.resource:
            incident.resource = None if newcomer else incident.resource
        incident.updated_at = self.i.clock.now()
        self.work.touch(incident)
        self._count(incident, at, event.fingerprint)
        if newcomer:
            self.timeline.add(incident.incident_id, at, SYSTEM, "alert_joined",
                              f"alert {event.name} ({event.severity}) on "
                              f"{event.resource or event.service or '-'} joined",
                              fingerprint=event.fingerprint)
            self._reassess(envelope, incident, event, at)

    def _reassess(self, envelope: Envelope, incident: Incident, event: EventAccepted,
                  at: datetime) -> None:
        assessment = self.i.assess(event.severity, event.labels, event.service)
        previous = raise_priority(incident, assessment,
                                  f"raised when {event.name} ({event.severity}) joined")
        if previous is None:
            return
        now = self.i.clock.now()
        self.timeline.add(incident.incident_id, at, SYSTEM, "priority_changed",
                          f"P{previous} -> P{incident.priority}: {incident.priority_reason}")
        emit(self.tx, priority_event(incident, previous, now, SYSTEM), incident, envelope)
        self.work.touch(incident)
        if incident.priority == 1 and not incident.major:
            self.i.escalations.declare_major(self.tx, incident, now, SYSTEM,
                                             "priority raised to P1", self.timeline, envelope)

    async def _open(self, envelope: Envelope, event: EventAccepted, rule: Rule, group: Group,
                    at: datetime) -> None:
        now = self.i.clock.now()
        alert = Alert(fingerprint=event.fingerprint, status=event.status, name=event.name,
                      severity=event.severity, summary=event.summary, service=event.service,
                      resource=event.resource, labels=event.labels,
                      annotations=event.annotations, starts_at=event.starts_at)
        incident = open_incident(alert, incident_id=await self.numbers.next_incident(),
                                 at=now, correlation_id=envelope.correlation_id)
        assessment = self.i.assess(event.severity, event.labels, event.service)
        incident.impact, incident.urgency = assessment.impact, assessment.urgency
        incident.priority, incident.priority_reason = assessment.priority, assessment.reason
        members = list(group.pending)
        await self.work.more_records(members)
        resources = {p.resource for p in group.pending.values()}
        _worst_fp, worst = min(group.pending.items(), key=lambda kv: (kv[1].priority, kv[1].at))
        if worst.priority < incident.priority:
            incident.impact, incident.urgency, incident.priority = (
                worst.impact, worst.urgency, worst.priority)
            incident.priority_reason = (f"highest of the grouped alerts ({worst.severity} "
                                        f"on {worst.resource}) => P{worst.priority}")
        incident.rule, incident.group_key = rule.name, group.key
        incident.alert_count = incident.firing_alerts = len(members)
        incident.last_alert_at, incident.last_fingerprint = at, event.fingerprint
        if len(resources) > 1:
            incident.resource = None
        for fp in members:
            member = self.work.records.get(fp)
            if member is not None:
                member.incident_id, member.status, member.group_key = (
                    incident.incident_id, "firing", group.key)
        group.incident_id, group.pending = incident.incident_id, {}
        self.work.created[incident.incident_id] = self.work.incidents[incident.incident_id] = \
            incident
        self.origins[incident.incident_id] = envelope
        if incident.service in self.work.open_by_service:
            self.work.open_by_service[incident.service].append(incident.incident_id)
        why = ("first alert" if rule.create_on == "first" else
               f"{len(members)} alerts on {len(resources)} resources within {rule.window}s")
        await self._probable_cause_of(incident, at)
        self._assign_at_open(incident, rule)
        emit(self.tx, opened_event(incident), incident, envelope)
        self.timeline.add(incident.incident_id, at, SYSTEM, "opened",
                          f"opened by rule {rule.name} ({why}); P{incident.priority}: "
                          f"{incident.priority_reason}", group=group.key)
        self.i.metrics.opened.labels(f"P{incident.priority}", incident.service or "").inc()
        self.i.escalations.after_assignment(self.tx, incident, None, now, SYSTEM,
                                            self.timeline, envelope, self.rules)
        if incident.priority == 1:
            self.i.escalations.declare_major(self.tx, incident, now, SYSTEM,
                                             "opened at P1", self.timeline, envelope)
        await self.i.escalations.arm(self.tx, incident, self.rules, envelope, cancel=False)

    def _assign_at_open(self, incident: Incident, rule: Rule) -> None:
        entry = self.i.catalog.get(incident.service) if self.i.catalog else None
        chosen = choose_assignment(self.rules.precedence, {
            "rule": rule.assign_to, "catalog": entry.owner if entry else None})
        if chosen is not None:
            incident.assignment_group, incident.assignment_source = chosen

    # -- topology ----------------------------------------------------------------------------
    async def _dependent_incident(self, event: EventAccepted, rule: Rule, at: datetime
                                  ) -> Incident | None:
        """An open incident of a service that depends on this alert's service, with an
        alert inside the window: this alert is its probable cause."""
        if self.i.catalog is None or not event.service:
            return None
        dependents = self.i.catalog.dependents_of(event.service)
        if not dependents:
            return None
        found = [i for i in await self.work.open_incidents_of(dependents)
                 if i.last_alert_at is not None and within(i.last_alert_at, at, rule.window)]
        return min(found, key=lambda i: i.incident_id) if found else None

    def _attach_cause(self, envelope: Envelope, incident: Incident, event: EventAccepted,
                      record: AlertRecord, at: datetime) -> None:
        self._join(envelope, incident, event, record, at)
        if incident.probable_cause is None:
            incident.probable_cause = _cause(event.service or "", None, event, at,
                                             f"{incident.service} depends on {event.service}")
            self.timeline.add(incident.incident_id, at, SYSTEM, "probable_cause",
                              f"probable cause: {event.service} ({event.name} on "
                              f"{event.resource or '-'}); {incident.service} depends on it")

    async def _probable_cause_of(self, incident: Incident, at: datetime) -> None:
        if self.i.catalog is None or not incident.service:
            return
        dependencies = self.i.catalog.dependencies_of(incident.service)
        if not dependencies:
            return
        rule = self.rules.by_name(incident.rule)
        window = rule.window if rule else 300
        found = [i for i in await self.work.open_incidents_of(dependencies)
                 if i.incident_id != incident.incident_id and i.last_alert_at is not None
                 and within(i.last_alert_at, at, window)]
        if not found:
            return
        cause = min(found, key=lambda i: i.incident_id)
        incident.probable_cause = {
            "service": cause.service or "", "incident_id": cause.incident_id,
            "alert": cause.title, "resource": cause.resource or "",
            "fingerprint": cause.fingerprint, "detected_at": at.isoformat(),
            "reason": f"{incident.service} depends on {cause.service}, which has "
                      f"{cause.incident_id} open"}
        self.timeline.add(incident.incident_id, at, SYSTEM, "probable_cause",
                          f"probable cause: {cause.service} ({cause.incident_id}: "
                          f"{cause.title})", incident=cause.incident_id)

    # -- resolved ---------------------------------------------------------------------------
    async def _resolved(self, envelope: Envelope, event: EventAccepted, record: AlertRecord,
                        at: datetime, *, settled: bool = False) -> None:
        """``settled``: the alert just stopped flapping; its state now counts again."""
        was_firing = record.status == "firing"
        record.status = "resolved"
        incident = self.work.incidents.get(record.incident_id or "")
        if incident is None:
            group = self.work.groups.get(record.group_key or "")
            if group is not None and event.fingerprint in group.pending:
                del group.pending[event.fingerprint]
                self.work.dirty_groups.add(group.key)
            self.outcomes["ignored"] += 1
            return
        if incident.state not in OPEN_STATES or not (was_firing or settled):
            self.outcomes["ignored"] += 1
            return
        incident.firing_alerts = max(0, incident.firing_alerts - was_firing)
        incident.updated_at = self.i.clock.now()
        self.work.touch(incident)
        if should_resolve(self.rules.by_name(incident.rule), incident, event.fingerprint):
            self._transition(envelope, incident, "resolve", f"alert {event.name} resolved", at)
            self.outcomes["resolved"] += 1
        else:
            self.outcomes["counted"] += 1

    def _transition(self, envelope: Envelope, incident: Incident, action: str, note: str,
                    at: datetime) -> None:
        now = self.i.clock.now()
        before = incident.state.value
        incident.apply(action, now, note)
        self.work.touch(incident)
        emit(self.tx, transition_event(action, incident, now, "monitoring", note), incident,
             envelope)
        self.timeline.add(incident.incident_id, at, "monitoring", "state_changed",
                          f"{before} -> {incident.state.value}: {note}")
        self.i.metrics.transitioned(action, "monitoring", incident)

    def _silenced(self, record: AlertRecord, silence_id: str, at: datetime) -> None:
        incident = self.work.incidents.get(record.incident_id or "")
        if record.silenced_by != silence_id and incident is not None \
                and incident.state in OPEN_STATES:
            self.timeline.add(incident.incident_id, at, SYSTEM, "alert_silenced",
                              f"alert {record.name} on {record.resource or '-'} silenced by "
                              f"{silence_id}", silence=silence_id)
        record.silenced_by = silence_id
        if record.status == "new":
            record.status = "silenced"
        self.work.silenced[silence_id] += 1
        self.outcomes["silenced"] += 1


def _cause(service: str, incident_id: str | None, event: EventAccepted, at: datetime,
           reason: str) -> dict[str, str]:
    return {"service": service, "incident_id": incident_id or "", "alert": event.name,
            "resource": event.resource or "", "fingerprint": event.fingerprint,
            "detected_at": at.isoformat(), "reason": reason}


def _signature(record: AlertRecord) -> tuple[object, ...]:
    """What, when changed, makes an alert record worth writing back."""
    return (record.incident_id, record.status, record.group_key, tuple(record.changes),
            record.flapping, record.silenced_by,
            record.last_seen_at if record.silenced_by else None)
