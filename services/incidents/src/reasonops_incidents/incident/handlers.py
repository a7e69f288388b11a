"""The incident service's event handlers: accepted alerts, and other services' news.

``AlertIntake`` is the shell around the correlation engine (``engine.py``): per batch one
read each for the groups, the alert records and the incidents they point at (and, only
when an alert may open an incident, the open incidents of the services topology may
consult and the incident counter), then the engine's decisions, then one bulk write per
table and the events, each under the span of the alert that caused it. Nothing here scans
closed incidents: every lookup is by key, so the cost of a batch does not grow with
history.

``Chronicle`` puts other services' news about an incident on its timeline: agent
decisions and SLA events. Only the generic fields of an agent decision are read (agent,
provider, incident_id, decision_id, summary, and an ``assignment_group`` where the
decision carries one), so the timeline keeps working as agents' outputs evolve.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from reasonops_contracts import Envelope, durables, subjects
from reasonops_contracts.catalog import ServiceCatalog
from reasonops_contracts.ingest import EventAccepted
from reasonops_runtime import Clock, Delivery, Transaction, envelope_of
from reasonops_runtime.store import Session

from ..access import Access
from ..metrics import IncidentMetrics
from ..problem.handlers import Problems
from ..silence.store import SilenceBook
from ..store import INCIDENT_NUMBER, Numbers
from . import alert_store, store
from .batch import Arrival, Decisions, Publish, Snapshot, pending_members, reach, route
from .correlation import AlertRecord, outranks
from .domain import Incident
from .engine import decide
from .escalation import Escalations
from .events import emit
from .rules import RuleFile, RuleSet
from .timeline import Timeline, page_entry, sla_entry, time_of

INTAKE_CONSUMER = durables.INCIDENTS_ALERTS


async def load(session: Session, arrivals: Sequence[Arrival],
               catalog: ServiceCatalog | None, numbers: Numbers) -> Snapshot:
    """Everything ``decide`` can need for ``arrivals``, in at most five reads."""
    groups = await alert_store.load_groups(session, {a.key for a in arrivals})
    records = await alert_store.load_records(
        session, {a.event.fingerprint for a in arrivals} | pending_members(groups.values()))
    ids = {r.incident_id for r in records.values() if r.incident_id}
    ids |= {g.incident_id for g in groups.values() if g.incident_id}
    incidents = await store.load_incidents(session, ids)
    services, may_open = reach(arrivals, groups, incidents, catalog)
    open_by_service: dict[str, list[str]] = {s: [] for s in services}
    if services:
        for incident in await store.open_incidents_of(session, services):
            incident = incidents.setdefault(incident.incident_id, incident)
            open_by_service[incident.service or ""].append(incident.incident_id)
    last = await numbers.load(INCIDENT_NUMBER) if may_open else None
    return Snapshot(records, groups, incidents, open_by_service, last)


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

    def decode(self, delivery: Delivery) -> tuple[Envelope, EventAccepted]:
        envelope = envelope_of(delivery)
        return envelope, envelope.decode(EventAccepted)

    def key(self, item: tuple[Envelope, EventAccepted]) -> str:
        return item[0].id

    async def __call__(self, tx: Transaction, batch: Sequence[tuple[Delivery, Any]]) -> None:
        rules = self.rules.current()
        self.metrics.rules_refused.set(1 if self.rules.error else 0)
        await self.silences.refresh(tx.session)
        arrivals = [route(rules, envelope, event) for _, (envelope, event) in batch]
        numbers = Numbers(tx.session)
        snapshot = await load(tx.session, arrivals, self.catalog, numbers)
        loaded_as = {fp: _signature(r) for fp, r in snapshot.records.items()}
        now = self.clock.now()
        decisions = decide(snapshot, arrivals, rules, self.catalog, self.silences, now)
        if snapshot.last_number is not None:
            numbers.advance(INCIDENT_NUMBER, snapshot.last_number)
        await self._publish(tx, arrivals, decisions, rules)
        await self._save(tx, snapshot, decisions, loaded_as, now)
        await self.problems.on_opened(tx, list(decisions.created.values()), rules, numbers,
                                      decisions.timeline, now,
                                      {o.incident.incident_id: o.cause for o in decisions.opened})
        await numbers.save()
        await self.silences.count(tx.session, decisions.silenced)
        await decisions.timeline.save(tx.session)
        self._count(decisions)

    async def _publish(self, tx: Transaction, arrivals: Sequence[Arrival],
                       decisions: Decisions, rules: RuleSet) -> None:
        """Each alert's events and escalation timers, under a span of its decision."""
        events: dict[str, list[Publish]] = {}
        for p in decisions.events:
            events.setdefault(p.cause.id, []).append(p)
        timers: dict[str, list[Incident]] = {}
        for o in decisions.opened:
            timers.setdefault(o.cause.id, []).append(o.incident)
        for a, outcome in zip(arrivals, decisions.outcomes, strict=True):
            with tx.span("incident.correlate", cause=a.cause, attributes={
                    "reasonops.fingerprint": a.event.fingerprint,
                    "reasonops.correlation.rule": a.rule.name,
                    "reasonops.correlation.group": a.key,
                    "reasonops.correlation.outcome": outcome}):
                for p in events.pop(a.cause.id, ()):
                    emit(tx, p.event, p.incident, p.cause)
                for incident in timers.pop(a.cause.id, ()):
                    await self.escalations.arm(tx, incident, rules, a.cause, cancel=False)

    @staticmethod
    async def _save(tx: Transaction, snapshot: Snapshot, decisions: Decisions,
                    loaded_as: dict[str, tuple[object, ...]], now: datetime) -> None:
        session = tx.session
        whole = decisions.changed | set(decisions.created)
        await store.save(session, created=list(decisions.created.values()),
                         changed=[snapshot.incidents[i] for i in decisions.changed])
        await store.bump_counts(
            session, {i: n for i, n in decisions.bumps.items() if i not in whole},
            decisions.last_alert, now)
        # Most alerts in a storm are repeats that change nothing worth a write.
        new = decisions.new_records
        await alert_store.save_records(
            session, [snapshot.records[fp] for fp in new],
            [r for fp, r in snapshot.records.items()
             if fp not in new and loaded_as.get(fp) != _signature(r)])
        await alert_store.save_groups(
            session, [snapshot.groups[k] for k in decisions.new_groups],
            [snapshot.groups[k] for k in decisions.changed_groups - decisions.new_groups])

    def _count(self, decisions: Decisions) -> None:
        for outcome, n in Counter(decisions.outcomes).items():
            self.metrics.alerts.labels(outcome).inc(n)
        for o in decisions.opened:
            self.metrics.opened.labels(f"P{o.priority}", o.incident.service or "").inc()
        for action, incident in decisions.transitions:
            self.metrics.transitioned(action, "monitoring", incident)


def _signature(record: AlertRecord) -> tuple[object, ...]:
    """What, when changed, makes an alert record worth writing back."""
    return (record.incident_id, record.status, record.group_key, tuple(record.changes),
            record.flapping, record.silenced_by,
            record.last_seen_at if record.silenced_by else None)


AGENTS_CONSUMER = durables.INCIDENTS_AGENTS
SLM_CONSUMER = durables.INCIDENTS_SLM
AGENT_SUBJECTS = (subjects.AGENT_DECISION,)
SLM_SUBJECTS = (subjects.SLA_STARTED, subjects.SLA_MET, subjects.SLA_BREACHED)
ONCALL_CONSUMER = durables.INCIDENTS_ONCALL
ONCALL_SUBJECTS = (subjects.ONCALL_PAGED, subjects.ONCALL_NOTIFICATION,
                   subjects.ONCALL_PAGING_STOPPED, subjects.ONCALL_PAGE_ACTED_ON,
                   subjects.ONCALL_PAGE_DEFERRED)


class Chronicle:
    """Batch handler for agent decisions, SLA events and pages (one instance per
    consumer)."""

    def __init__(self, clock: Clock, rules: RuleFile, escalations: Escalations,
                 access: Access) -> None:
        self.clock = clock
        self.rules = rules
        self.escalations = escalations
        self.access = access

    def decode(self, delivery: Delivery) -> tuple[str, Envelope]:
        return delivery.subject, envelope_of(delivery)

    def key(self, item: tuple[str, Envelope]) -> str:
        return item[1].id

    async def __call__(self, tx: Transaction, batch: Sequence[tuple[Delivery, Any]]) -> None:
        """Timeline entries for the whole batch; the incidents that decisions may assign
        are read in one statement and written back in one."""
        timeline = Timeline()
        deciding = {str(envelope.data["incident_id"]) for _, (subject, envelope) in batch
                    if subject == subjects.AGENT_DECISION and envelope.data.get("incident_id")}
        incidents = await store.load_incidents(tx.session, deciding)
        assigned: dict[str, tuple[Incident, Envelope]] = {}
        for _, (subject, envelope) in batch:
            data: dict[str, Any] = envelope.data
            if not data.get("incident_id"):
                continue  # e.g. a security review of events no incident was opened for
            if subject == subjects.AGENT_DECISION:
                incident = self._decision(tx, envelope, data, timeline,
                                          incidents.get(str(data["incident_id"])))
                if incident is not None:
                    assigned[incident.incident_id] = (incident, envelope)
            elif subject in SLM_SUBJECTS:
                sla_entry(SLM_SUBJECTS.index(subject), envelope, data, timeline)
            elif subject in ONCALL_SUBJECTS:
                page_entry(ONCALL_SUBJECTS.index(subject), envelope, data, timeline)
        await timeline.save(tx.session)
        if assigned:
            await store.save(tx.session, created=[],
                             changed=[incident for incident, _ in assigned.values()])
            await self.escalations.arm_all(tx, list(assigned.values()), self.rules.current(),
                                           self.clock.now())

    def _decision(self, tx: Transaction, envelope: Envelope, data: dict[str, Any],
                  timeline: Timeline, incident: Incident | None) -> Incident | None:
        """Put the decision on the timeline; assign the incident if the decision names a
        group and triage may (the incident, changed, is returned to be saved)."""
        agent = str(data.get("agent") or "agent")
        incident_id = str(data["incident_id"])
        summary = data.get("summary") or f"{agent} decision {data.get('decision_id', '')}"
        timeline.add(incident_id, time_of(data, "decided_at", envelope), f"agent:{agent}",
                     "agent_decision", str(summary), decision_id=str(data.get("decision_id", "")),
                     provider=str(data.get("provider", "")))
        output = data.get("output") if isinstance(data.get("output"), dict) else {}
        group = data.get("assignment_group") or (output or {}).get("assignment_group")
        if not group:
            return None
        rules = self.rules.current()
        if incident is None or incident.assignment_group == group \
                or not outranks(rules.precedence, "triage", incident.assignment_source):
            return None
        denial = self.access.agent_assignment(f"agent:{agent}", incident, envelope)
        if denial is not None:  # the decision stays on the timeline; the refusal on record
            tx.emit(denial)
            timeline.add(incident_id, self.clock.now(), f"agent:{agent}", "access_denied",
                         f"assignment to {group} refused: {denial.data['reason']}")
            return None
        now = self.clock.now()
        previous = incident.assignment_group
        incident.assignment_group, incident.assignment_source = str(group), "triage"
        incident.escalation_level = 1
        incident.updated_at = now
        self.escalations.after_assignment(tx, incident, previous, now, f"agent:{agent}",
                                          timeline, envelope,
                                          f"triage agent ({data.get('provider', '')})")
        return incident
