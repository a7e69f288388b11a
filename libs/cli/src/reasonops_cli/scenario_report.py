"""The timeline report of a scenario run: what ReasonOps did and when, then SLA and cost.

Pure: built from trail entries, SLA clocks and ledger entries already fetched.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from reasonops_client.trail import TrailEntry
from reasonops_contracts import incidents as inc
from reasonops_contracts import subjects
from reasonops_contracts import workflows as wf
from reasonops_contracts.agents import AgentDecisionRecorded, AgentProposalRecorded
from reasonops_contracts.finance import LedgerEntryPosted
from reasonops_contracts.ingest import ChangeAccepted, EventAccepted
from reasonops_contracts.policy import AccessDenied
from reasonops_contracts.slm import PenaltyAssessed, SlaAtRisk, SlaBreached, SlaMet, SlaStarted

from .output import duration
from .scenario_script import Expect


def kind(entry_type: str) -> str:
    """``itsm.incident.opened.v1`` -> ``incident.opened``."""
    return subjects.kind(entry_type)


def _d(entry: TrailEntry, key: str, default: str = "?") -> str:
    value = entry.data.get(key)
    return default if value in (None, "") else str(value)


def _opened(e: TrailEntry) -> str:
    return f"incident opened, P{_d(e, 'priority')}: {_d(e, 'title', e.summary)}"


def _decision(e: TrailEntry) -> str:
    return f"{_d(e, 'agent', 'agent')} decided: {_d(e, 'summary', e.summary)}"


def _proposal(e: TrailEntry) -> str:
    return (f"{_d(e, 'agent', 'agent')} proposed {_d(e, 'action')} on {_d(e, 'target')}"
            " (needs approval)")


def _clock(verb: str) -> Callable[[TrailEntry], str]:
    return lambda e: f"SLA {_d(e, 'kind', 'clock')} clock {verb}" + (
        f" ({_d(e, 'agreement')})" if e.data.get("agreement") else "")


def _ledger(e: TrailEntry) -> str:
    return (f"ledger: {_d(e, 'kind', 'entry').replace('_', ' ')} {_d(e, 'amount')} "
            f"{_d(e, 'currency', '')}".rstrip())


def _step(e: TrailEntry) -> str:
    result = e.data.get("result")
    shown = f": {json.dumps(result, default=str)[:80]}" if result else ""
    where = f"{_d(e, 'workflow', 'workflow')} step {_d(e, 'step')}"
    return f"{where} {_d(e, 'state', 'completed')}{shown}"


def _step_event(verb: str, detail: str = "") -> Callable[[TrailEntry], str]:
    def line(e: TrailEntry) -> str:
        extra = f": {_d(e, detail)}" if detail and e.data.get(detail) else ""
        return f"{_d(e, 'workflow', 'workflow')} step {_d(e, 'step')} {verb}{extra}"
    return line


def _approval(e: TrailEntry) -> str:
    verdict = "approved" if e.data.get("approved") else "rejected"
    note = f" ({_d(e, 'note')})" if e.data.get("note") else ""
    return f"{_d(e, 'workflow', 'workflow')} step {_d(e, 'step')} {verdict} by " \
           f"{_d(e, 'actor', e.actor)}{note}"


def _applied(e: TrailEntry) -> str:
    return (f"proposal applied: {_d(e, 'action')} on {_d(e, 'target')} ({_d(e, 'how')}), "
            f"approved by {_d(e, 'approved_by', '-')}")


def _notified(e: TrailEntry) -> str:
    outcome = "delivered" if e.data.get("ok") else f"NOT delivered ({_d(e, 'error', '')})"
    return f"notification to {_d(e, 'group')} ({_d(e, 'target')}): {outcome}"


_DESCRIBE: dict[str, Callable[[TrailEntry], str]] = {
    "scenario.sent": lambda e: e.summary,
    "scenario.acted": lambda e: e.summary,
    "scenario.waited": lambda e: e.summary,
    kind(EventAccepted.TYPE): lambda e: f"alert accepted: {_d(e, 'name')} ({_d(e, 'status')})",
    kind(ChangeAccepted.TYPE): lambda e: f"change recorded: {_d(e, 'summary', e.summary)}",
    kind(inc.IncidentOpened.TYPE): _opened,
    kind(inc.IncidentMajorDeclared.TYPE): lambda e: (
        f"major incident declared: {_d(e, 'reason', '')}"),
    kind(inc.IncidentPriorityChanged.TYPE): lambda e: f"priority changed to P{_d(e, 'priority')}",
    kind(inc.IncidentAssigned.TYPE): lambda e: f"assigned to {_d(e, 'assignment_group')}",
    kind(inc.IncidentAcknowledged.TYPE): lambda e: "incident acknowledged",
    kind(inc.IncidentResolved.TYPE): lambda e: "incident resolved",
    kind(inc.IncidentClosed.TYPE): lambda e: "incident closed",
    kind(inc.IncidentReopened.TYPE): lambda e: "incident reopened",
    kind(inc.IncidentEscalated.TYPE): lambda e: f"escalated to level {_d(e, 'level')}",
    kind(AgentDecisionRecorded.TYPE): _decision,
    kind(AgentProposalRecorded.TYPE): _proposal,
    kind(wf.WorkflowStarted.TYPE): lambda e: f"workflow {_d(e, 'workflow')} started",
    kind(wf.WorkflowStepCompleted.TYPE): _step,
    kind(wf.WorkflowStepStarted.TYPE): lambda e: (
        f"{_d(e, 'workflow', 'workflow')} step {_d(e, 'step')} ({_d(e, 'kind', 'step')}) started"),
    kind(wf.WorkflowStepSkipped.TYPE): _step_event("skipped", "reason"),
    kind(wf.WorkflowStepRetried.TYPE): _step_event("retried", "error"),
    kind(wf.WorkflowStepFailed.TYPE): _step_event("FAILED", "error"),
    kind(wf.WorkflowApprovalRequested.TYPE): _step_event("awaits approval", "summary"),
    kind(wf.WorkflowApprovalDecided.TYPE): _approval,
    kind(wf.WorkflowProposalApplied.TYPE): _applied,
    kind(wf.WorkflowProposalRefused.TYPE): lambda e: (f"proposal refused: {_d(e, 'action')} on "
                                            f"{_d(e, 'target')}: {_d(e, 'reason')}"),
    kind(wf.WorkflowNotificationDelivered.TYPE): _notified,
    kind(wf.PostIncidentReviewRecorded.TYPE): lambda e: "post-incident review recorded",
    kind(wf.WorkflowResumed.TYPE): lambda e: (f"workflow {_d(e, 'workflow')} resumed after "
                                   f"{_d(e, 'gap_seconds')}s"),
    kind(wf.WorkflowQueued.TYPE): lambda e: f"workflow {_d(e, 'workflow')} queued",
    kind(wf.WorkflowCompensated.TYPE): lambda e: f"workflow {_d(e, 'workflow')} compensated",
    kind(wf.WorkflowCompleted.TYPE): lambda e: (f"workflow {_d(e, 'workflow')} "
                                     f"{_d(e, 'outcome', 'completed')}"),
    kind(wf.WorkflowFailed.TYPE): lambda e: (
        f"workflow {_d(e, 'workflow')} failed: {_d(e, 'error')}"),
    kind(SlaStarted.TYPE): _clock("started"),
    kind(SlaMet.TYPE): _clock("met"),
    kind(SlaBreached.TYPE): _clock("BREACHED"),
    kind(SlaAtRisk.TYPE): _clock("at risk"),
    kind(PenaltyAssessed.TYPE): lambda e: (f"penalty {_d(e, 'amount')} {_d(e, 'currency')} "
                                       f"from {_d(e, 'supplier')}"),
    kind(LedgerEntryPosted.TYPE): _ledger,
    kind(AccessDenied.TYPE): lambda e: f"refused: {_d(e, 'action')} ({_d(e, 'reason', '')})",
}


def describe(entry: TrailEntry) -> str:
    """One line for people; an entry type this report does not know shows its summary."""
    found = _DESCRIBE.get(kind(entry.type))
    if found is None:
        return entry.summary or kind(entry.type)
    try:
        return found(entry)
    except Exception:  # a renderer must never lose the entry; its summary still says it
        return entry.summary or kind(entry.type)


@dataclass(frozen=True)
class Line:
    offset: float
    incident: str
    actor: str
    what: str
    type: str
    count: int = 1


@dataclass(frozen=True)
class KeyStep:
    step: str
    observed: bool
    offset: float | None = None
    incident: str | None = None


@dataclass(frozen=True)
class ClockOutcome:
    incident: str
    clock: str
    agreement: str
    state: str
    target_seconds: int
    elapsed_seconds: int


@dataclass(frozen=True)
class CostLine:
    incident: str
    kind: str
    amount: Decimal
    currency: str
    party: str = ""


@dataclass
class Report:
    scenario: str
    title: str
    started_at: datetime
    incidents: list[dict[str, Any]]
    timeline: list[Line]
    key_steps: list[KeyStep]
    sla: list[ClockOutcome]
    cost: list[CostLine]
    notes: list[str] = field(default_factory=list)

    def totals(self) -> dict[str, Decimal]:
        sums: dict[str, Decimal] = {}
        for line in self.cost:
            sums[line.currency] = sums.get(line.currency, Decimal("0")) + line.amount
        return sums

    def to_json(self) -> dict[str, Any]:
        return {"scenario": self.scenario, "title": self.title,
                "started_at": self.started_at.isoformat(), "incidents": self.incidents,
                "timeline": [asdict(x) for x in self.timeline],
                "key_steps": [asdict(x) for x in self.key_steps],
                "sla": [asdict(x) for x in self.sla],
                "cost": [{**asdict(x), "amount": str(x.amount)} for x in self.cost],
                "totals": {k: str(v) for k, v in self.totals().items()},
                "notes": self.notes}


def _incident_of(entry: TrailEntry) -> str:
    return str(entry.data.get("incident_id") or "")


def timeline(entries: Sequence[TrailEntry], start: datetime) -> list[Line]:
    """Entries in time order; a run of the same thing for the same incident is one line."""
    lines: list[Line] = []
    for entry in sorted(entries, key=lambda e: e.at):
        line = Line(round((entry.at - start).total_seconds(), 1), _incident_of(entry),
                    entry.actor, describe(entry), kind(entry.type))
        last = lines[-1] if lines else None
        if last and (last.type, last.incident, last.what) == (line.type, line.incident,
                                                                line.what):
            lines[-1] = Line(last.offset, last.incident, last.actor, last.what, last.type,
                             last.count + 1)
        else:
            lines.append(line)
    return lines


def key_steps(expected: Sequence[Expect], entries: Sequence[TrailEntry],
              start: datetime) -> list[KeyStep]:
    """Each expected step with when it was first seen, or not observed."""
    found: list[KeyStep] = []
    ordered = sorted(entries, key=lambda e: e.at)
    for want in expected:
        pattern = re.compile(want.text, re.IGNORECASE) if want.text else None
        hit = next((e for e in ordered if kind(e.type).startswith(want.type) and (
            pattern is None or pattern.search(_haystack(e)))), None)
        found.append(KeyStep(want.step, hit is not None,
                             round((hit.at - start).total_seconds(), 1) if hit else None,
                             (_incident_of(hit) or None) if hit else None))
    return found


def _haystack(entry: TrailEntry) -> str:
    return " ".join([entry.summary, entry.actor, describe(entry),
                     json.dumps(entry.data, default=str)])


WIDTH = 140
"""Longest description on a text line; ``--json`` keeps them whole."""


def render(report: Report) -> str:
    """The report as text for a terminal."""
    out = [f"Scenario {report.scenario}: {report.title}",
           f"Started {report.started_at:%Y-%m-%d %H:%M:%S} UTC", ""]
    for row in report.incidents:
        out.append(f"  {row['incident_id']}  P{row['priority']}"
                   f"{' major' if row.get('major') else ''}  {row['state']}  {row['title']}")
    out += ["", "Timeline (seconds from the start)"]
    for ln in report.timeline:
        times = f" (x{ln.count})" if ln.count > 1 else ""
        what = ln.what if len(ln.what) <= WIDTH else ln.what[:WIDTH - 3] + "..."
        out.append(f"  +{ln.offset:7.1f}s  {ln.incident or '-':<11} {ln.actor:<22} "
                   f"{what}{times}")
    if report.key_steps:
        out += ["", "Key steps"]
        out += [f"  [{'x' if k.observed else ' '}] {k.step}: "
                + (f"+{k.offset:.1f}s" + (f" ({k.incident})" if k.incident else "")
                   if k.observed else "not observed") for k in report.key_steps]
    out += ["", "SLA outcome"]
    out += [f"  {c.incident}  {c.clock:<10} {c.agreement:<24} {c.state.upper():<9} target "
            f"{duration(c.target_seconds)}, took {duration(c.elapsed_seconds)}"
            for c in report.sla] or ["  no SLA clocks"]
    out += ["", "Cost outcome"]
    out += [f"  {c.incident}  {c.kind.replace('_', ' '):<14} {c.amount} {c.currency}"
            + (f"  ({c.party})" if c.party else "") for c in report.cost] or [
        "  nothing booked"]
    if report.cost:
        out.append("  total: " + ", ".join(f"{v} {k}" for k, v in report.totals().items()))
    out += [f"Note: {n}" for n in report.notes]
    return "\n".join(out)
