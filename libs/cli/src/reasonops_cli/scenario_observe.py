"""What ReasonOps did during a scenario, read back through its queries and streams.

The audit trail (``collect_trail``) is the source of the timeline. Where it is not
available, the incident's own timeline, its workflow, its SLA clocks and its ledger
entries stand in, as trail entries of the same types, so the report reads the same.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from typing import Any

from nats.aio.client import Client
from nats.js.api import ConsumerConfig, DeliverPolicy

from reasonops_client.trail import TrailEntry, collect_trail
from reasonops_contracts import Envelope, Event, streams, subjects
from reasonops_contracts.agents import AgentDecisionRecorded, AgentProposalRecorded
from reasonops_contracts.finance import LedgerEntryList, LedgerEntryPosted, ListLedgerEntries
from reasonops_contracts.incidents import (
    GetIncident,
    IncidentAcknowledged,
    IncidentAssigned,
    IncidentClosed,
    IncidentEscalated,
    IncidentHeld,
    IncidentMajorDeclared,
    IncidentOpened,
    IncidentPriorityChanged,
    IncidentReopened,
    IncidentResolved,
    IncidentView,
)
from reasonops_contracts.slm import (
    GetSlaStatus,
    PenaltyAssessed,
    SlaBreached,
    SlaMet,
    SlaStarted,
    SlaStatus,
)
from reasonops_contracts.workflows import (
    ListWorkflowInstances,
    WorkflowCompleted,
    WorkflowInstanceList,
    WorkflowStarted,
    WorkflowStepCompleted,
    WorkflowStepFailed,
    WorkflowStepSkipped,
    WorkflowStepStarted,
)
from reasonops_runtime.client import request

from .scenario_report import ClockOutcome, CostLine

log = logging.getLogger(__name__)

# A timeline entry of these kinds is the trace of this event (by the state it led to).
_TIMELINE_EVENTS: dict[str, type[Event]] = {
    "opened": IncidentOpened, "major_declared": IncidentMajorDeclared,
    "assigned": IncidentAssigned, "priority_changed": IncidentPriorityChanged,
    "escalated": IncidentEscalated, "agent_decision": AgentDecisionRecorded}
_STATE_EVENTS: dict[str, type[Event]] = {
    "acknowledged": IncidentAcknowledged, "resolved": IncidentResolved,
    "closed": IncidentClosed, "new": IncidentReopened, "on_hold": IncidentHeld}
_STEP_EVENTS: dict[str, type[Event]] = {
    "completed": WorkflowStepCompleted, "failed": WorkflowStepFailed,
    "skipped": WorkflowStepSkipped, "running": WorkflowStepStarted}
_SLA_EVENTS: dict[str, type[Event]] = {"started": SlaStarted, "met": SlaMet,
                                       "breached": SlaBreached}


async def trail(nc: Client, incident_ids: list[str], since: datetime,
                notes: list[str]) -> list[TrailEntry]:
    """Every entry about the scenario's incidents, plus agent proposals made during it."""
    entries: dict[str, TrailEntry] = {}
    audit = True
    for incident_id in incident_ids:
        try:
            found = [_about(e, incident_id)
                     for e in await collect_trail(nc, incident_id, since=since)]
        except Exception as exc:  # the audit trail is optional: fall back to the queries
            if audit:
                notes.append(f"audit trail not available ({exc.__class__.__name__}); "
                             "timeline built from incident, workflow, SLA and ledger queries")
            audit = False
            found = await fallback(nc, incident_id)
        entries.update((e.id, e) for e in found if e.at >= since)
    for entry in await agent_messages(nc, since):
        entries.setdefault(entry.id, entry)
    return list(entries.values())


def _about(entry: TrailEntry, incident_id: str) -> TrailEntry:
    """An alert names no incident; the report shows whose chain it is in."""
    if entry.data.get("incident_id"):
        return entry
    return replace(entry, data={**entry.data, "incident_id": incident_id})


async def fallback(nc: Client, incident_id: str) -> list[TrailEntry]:
    found: list[TrailEntry] = []
    view = await request(nc, GetIncident(incident_id=incident_id), IncidentView)
    for n, item in enumerate(view.timeline):
        found.append(from_timeline(incident_id, n, item.at, item.actor, item.kind,
                                    item.detail, dict(item.data), view))
    found += await _workflows(nc, incident_id)
    status = await request(nc, GetSlaStatus(incident_id=incident_id), SlaStatus)
    found += [TrailEntry(p.assessed_at, PenaltyAssessed.TYPE, p.penalty_id, "slm",
                         p.reason, p.penalty_id, data=p.model_dump(mode="json"))
              for p in status.penalties]
    ledger = await request(nc, ListLedgerEntries(incident_id=incident_id), LedgerEntryList)
    found += [TrailEntry(e.posted_at, LedgerEntryPosted.TYPE, e.entry_id, "finance",
                         e.memo or e.kind, e.entry_id, data=e.model_dump(mode="json"))
              for e in ledger.items]
    return found


async def _workflows(nc: Client, incident_id: str) -> list[TrailEntry]:
    """Each workflow instance of the incident: its start and every step that ran."""
    found: list[TrailEntry] = []
    listed = await request(nc, ListWorkflowInstances(incident_id=incident_id),
                           WorkflowInstanceList)
    for w in listed.items:
        common = {"workflow": w.workflow, "workflow_id": w.workflow_id,
                  "incident_id": incident_id}
        found.append(TrailEntry(w.started_at, WorkflowStarted.TYPE, w.workflow_id,
                                "orchestrator", f"{w.workflow} started",
                                f"{w.workflow_id}:started", data=common))
        for s in w.steps:
            at = s.completed_at or s.started_at
            if at is None or s.state == "pending":
                continue
            found.append(TrailEntry(
                at, _STEP_EVENTS.get(s.state, WorkflowStepStarted).TYPE, w.workflow_id,
                "orchestrator",
                f"{w.workflow} step {s.step} {s.state}", f"{w.workflow_id}:{s.step}",
                data={**common, "step": s.step, "kind": s.kind, "state": s.state,
                      "result": s.result, "error": s.error}))
        if w.completed_at is not None:
            found.append(TrailEntry(w.completed_at, WorkflowCompleted.TYPE,
                                    w.workflow_id, "orchestrator", f"{w.workflow} {w.state}",
                                    f"{w.workflow_id}:completed",
                                    data={**common, "outcome": w.outcome or w.state}))
    return found


def from_timeline(incident_id: str, n: int, at: datetime, actor: str, what: str,
                   detail: str, data: dict[str, Any], view: IncidentView) -> TrailEntry:
    """An incident timeline entry as the trail entry of the event behind it."""
    data = {**data, "incident_id": incident_id, "detail": detail}
    type_ = _TIMELINE_EVENTS[what].TYPE if what in _TIMELINE_EVENTS else \
        subjects.timeline_type(what)
    if what == "opened":
        data |= {"priority": str(view.priority), "title": view.title}
    elif what == "major_declared":
        data["reason"] = detail.removeprefix("major incident declared: ")
    elif what == "assigned":
        data["assignment_group"] = data.get("group", "")
    elif what == "agent_decision":
        data |= {"agent": actor.removeprefix("agent:"), "summary": detail}
    elif what == "state_changed":
        after = detail.split("->", 1)[-1].split(":", 1)[0].strip()
        type_ = _STATE_EVENTS[after].TYPE if after in _STATE_EVENTS else type_
    elif what == "sla":
        type_ = _SLA_EVENTS.get(str(data.get("event")), SlaStarted).TYPE
        data["kind"] = detail.split(" ", 1)[0]
    return TrailEntry(at, type_, incident_id, actor, detail,
                      f"{incident_id}:timeline:{n}", data=data)


async def agent_messages(nc: Client, since: datetime) -> list[TrailEntry]:
    """Agent proposals and decisions made during the run; a proposal from an agent's own
    detection (the security agent's) names no incident, so it is matched by time."""
    found: list[TrailEntry] = []
    for subject in (subjects.AGENT_DECISION, subjects.AGENT_PROPOSAL):
        found += [e for env in await _read(nc, subject, since)
                  if (e := _agent_entry(env)) is not None]
    return found


async def _read(nc: Client, subject: str, since: datetime) -> list[Envelope]:
    """The messages on ``subject`` since ``since`` (an ordered, ephemeral read)."""
    found: list[Envelope] = []
    try:
        sub = await nc.jetstream().subscribe(
            subject, stream=streams.AGENTS.name, ordered_consumer=True,
            config=ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_TIME,
                                  opt_start_time=since))
    except Exception as exc:
        log.debug("cannot read %s: %s", subject, exc)
        return found
    try:
        while True:
            try:
                msg = await sub.next_msg(timeout=0.5)
            except TimeoutError:
                break
            found.append(Envelope.from_bytes(msg.data))
            if msg.metadata.num_pending == 0:
                break
    finally:
        await sub.unsubscribe()
    return found


def _agent_entry(envelope: Envelope) -> TrailEntry | None:
    if envelope.type == AgentProposalRecorded.TYPE:
        p = envelope.decode(AgentProposalRecorded)
        return TrailEntry(p.proposed_at, envelope.type, p.proposal_id, f"agent:{p.agent}",
                          p.reason, envelope.id, data=p.model_dump(mode="json"))
    if envelope.type == AgentDecisionRecorded.TYPE:
        d = envelope.decode(AgentDecisionRecorded)
        if d.incident_id:  # the incident's own trail has it
            return None
        data = d.model_dump(mode="json")
        return TrailEntry(d.decided_at, envelope.type, d.decision_id, f"agent:{d.agent}",
                          d.summary or "", envelope.id, data=data)
    return None


async def outcomes(nc: Client, incident_ids: list[str]
                   ) -> tuple[list[ClockOutcome], list[CostLine]]:
    """Each SLA clock's outcome and what each incident cost, from SLM and finance."""
    clocks: list[ClockOutcome] = []
    costs: list[CostLine] = []
    for incident_id in incident_ids:
        status = await request(nc, GetSlaStatus(incident_id=incident_id), SlaStatus)
        clocks += [ClockOutcome(incident_id, c.kind, c.agreement + (f" {c.party}" if c.party
                                                                    else ""),
                                c.state, c.target_seconds, int(c.elapsed_seconds))
                   for c in status.clocks]
        ledger = await request(nc, ListLedgerEntries(incident_id=incident_id), LedgerEntryList)
        costs += [CostLine(incident_id, e.kind, e.amount, e.currency, e.supplier or "")
                  for e in ledger.items]
    return clocks, costs

