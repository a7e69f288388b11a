"""One line per audited message, for people: who did what, read from the event's data.

Each line reads the fields with ``.get`` so an older or newer version of an event still
prints; a type without a line here falls back to its name and its telling fields.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reasonops_contracts import subjects
from reasonops_contracts.agents import (
    AgentDecisionRecorded,
    AgentProposalRecorded,
    RcaRequested,
    SecurityReviewRequested,
    TriageRequested,
)
from reasonops_contracts.changes import (
    ChangeApproved,
    ChangeCancelled,
    ChangeCompleted,
    ChangeIncidentLinked,
    ChangeRejected,
    ChangeRequested,
    ChangeReviewed,
    ChangeStarted,
)
from reasonops_contracts.finance import LedgerEntryPosted
from reasonops_contracts.incidents import (
    IncidentAcknowledged,
    IncidentAssigned,
    IncidentClosed,
    IncidentCommented,
    IncidentEscalated,
    IncidentHeld,
    IncidentMajorDeclared,
    IncidentOpened,
    IncidentPriorityChanged,
    IncidentReopened,
    IncidentResolved,
    IncidentResumed,
    ProblemOpened,
)
from reasonops_contracts.ingest import ChangeAccepted, EventAccepted
from reasonops_contracts.oncall import (
    IncidentPaged,
    NotificationSent,
    OverrideCreated,
    OverrideRemoved,
    PageActedOn,
    PageDeferred,
    PagingStopped,
)
from reasonops_contracts.policy import AccessDenied
from reasonops_contracts.servicenow import (
    ServiceNowRecordCreated,
    ServiceNowRecordUpdated,
    ServiceNowSyncFailed,
    ServiceNowUpdateApplied,
)
from reasonops_contracts.slm import (
    PenaltyAssessed,
    SlaAtRisk,
    SlaBreached,
    SlaMet,
    SlaPaused,
    SlaResumed,
    SlaStarted,
)
from reasonops_contracts.workflows import (
    PostIncidentReviewRecorded,
    WorkflowApprovalDecided,
    WorkflowApprovalRequested,
    WorkflowCompensated,
    WorkflowCompleted,
    WorkflowFailed,
    WorkflowNotificationDelivered,
    WorkflowProposalApplied,
    WorkflowProposalRefused,
    WorkflowQueued,
    WorkflowResumed,
    WorkflowStarted,
    WorkflowStepCompleted,
    WorkflowStepFailed,
    WorkflowStepRetried,
    WorkflowStepSkipped,
    WorkflowStepStarted,
)

Data = dict[str, Any]


def _note(d: Data, key: str = "note") -> str:
    return f": {d[key]}" if d.get(key) else ""


def _clock(d: Data) -> str:
    agreement = str(d.get("agreement") or "sla").upper()
    party = f" ({d['party']})" if d.get("party") else ""
    return f"{agreement}{party} {d.get('kind', '')} clock"


def _hms(value: object) -> str:
    """``HH:MM:SS`` of an ISO timestamp; the table already shows the day."""
    text = str(value)
    return text[11:19] if len(text) >= 19 else text


def _money(d: Data) -> str:
    return f"{d.get('amount')} {d.get('currency', '')}".strip()


SUMMARIES: dict[str, Callable[[Data], str]] = {
    EventAccepted.TYPE: lambda d: (
        f"{d.get('status')} {d.get('name')} on {d.get('service') or '-'}"
        f"/{d.get('resource') or '-'} ({d.get('severity')}, {d.get('source_format')})"),
    ChangeAccepted.TYPE: lambda d: f"change {d.get('change_id')}: {d.get('summary')}",
    IncidentOpened.TYPE: lambda d: f"opened P{d.get('priority')}: {d.get('title')}",
    IncidentAcknowledged.TYPE: lambda d: "acknowledged" + _note(d),
    IncidentResolved.TYPE: lambda d: "resolved" + _note(d),
    IncidentClosed.TYPE: lambda d: "closed" + _note(d),
    IncidentReopened.TYPE: lambda d: "reopened" + _note(d, "reason"),
    IncidentHeld.TYPE: lambda d: "put on hold" + _note(d, "reason"),
    IncidentResumed.TYPE: lambda d: f"resumed, now {d.get('state')}",
    IncidentAssigned.TYPE: lambda d: (
        f"assigned to {d.get('assignment_group')}" + _note(d, "reason")),
    IncidentPriorityChanged.TYPE: lambda d: (
        f"P{d.get('previous_priority')} -> P{d.get('priority')}" + _note(d, "reason")),
    IncidentEscalated.TYPE: lambda d: (
        f"escalated to level {d.get('level')} ({d.get('target')})"),
    IncidentMajorDeclared.TYPE: lambda d: "major incident declared" + _note(d, "reason"),
    IncidentCommented.TYPE: lambda d: "comment" + _note(d),
    ProblemOpened.TYPE: lambda d: (
        f"problem {d.get('problem_id')} opened" + _note(d, "reason")),
    SlaStarted.TYPE: lambda d: (
        f"{_clock(d)} started, target {d.get('target_seconds')}s, "
        f"deadline {_hms(d.get('deadline'))}"),
    SlaMet.TYPE: lambda d: (
        f"{_clock(d)} met after {d.get('elapsed_seconds')}s of {d.get('target_seconds')}s"),
    SlaAtRisk.TYPE: lambda d: (
        f"{_clock(d)} at {d.get('percent')}%, {d.get('remaining_seconds')}s left"),
    SlaBreached.TYPE: lambda d: (
        f"{_clock(d)} breached (target {d.get('target_seconds')}s)"),
    SlaPaused.TYPE: lambda d: f"{_clock(d)} paused" + _note(d, "reason"),
    SlaResumed.TYPE: lambda d: (
        f"{_clock(d)} resumed, deadline {_hms(d.get('deadline'))}"),
    PenaltyAssessed.TYPE: lambda d: (
        f"penalty {_money(d)} from {d.get('supplier')} ({d.get('kind')} breach)"),
    LedgerEntryPosted.TYPE: lambda d: (
        f"ledger {d.get('kind', 'entry')} {_money(d)}, entry {d.get('entry_id')}"),
    TriageRequested.TYPE: lambda d: "triage requested",
    RcaRequested.TYPE: lambda d: "root-cause analysis requested",
    SecurityReviewRequested.TYPE: lambda d: f"security review of {d.get('source')}",
    AgentDecisionRecorded.TYPE: lambda d: (
        f"{d.get('agent')} decided ({d.get('provider')}"
        f"{', fallback' if d.get('fallback') else ''})" + _note(d, "summary")),
    AgentProposalRecorded.TYPE: lambda d: (
        f"proposes {d.get('action')} on {d.get('target')}" + _note(d, "reason")),
    WorkflowStarted.TYPE: lambda d: (
        f"workflow {d.get('workflow')} v{d.get('version')} started"),
    WorkflowStepCompleted.TYPE: lambda d: (
        f"{d.get('workflow')}: step {d.get('step')} completed"),
    WorkflowCompleted.TYPE: lambda d: (
        f"workflow {d.get('workflow')} completed" + _note(d, "outcome")),
    WorkflowFailed.TYPE: lambda d: (
        f"workflow failed at step {d.get('step')}" + _note(d, "error")),
    WorkflowQueued.TYPE: lambda d: (
        f"workflow {d.get('workflow')} queued: {d.get('running')} instances already running"),
    WorkflowStepStarted.TYPE: lambda d: (
        f"{d.get('workflow')}: step {d.get('step')} ({d.get('kind')}) started"
        + (f", attempt {d['attempt']}" if int(d.get("attempt") or 1) > 1 else "")),
    WorkflowStepSkipped.TYPE: lambda d: (
        f"{d.get('workflow')}: step {d.get('step')} skipped" + _note(d, "reason")),
    WorkflowStepRetried.TYPE: lambda d: (
        f"{d.get('workflow')}: step {d.get('step')} attempt {d.get('attempt')} failed, "
        f"retry at {_hms(d.get('retry_at'))}" + _note(d, "error")),
    WorkflowStepFailed.TYPE: lambda d: (
        f"{d.get('workflow')}: step {d.get('step')} failed" + _note(d, "error")),
    WorkflowCompensated.TYPE: lambda d: (
        f"{d.get('workflow')}: compensated for {d.get('step')}: "
        + ", ".join(f"{k} {v}" for k, v in (d.get("compensations") or {}).items())),
    WorkflowResumed.TYPE: lambda d: (
        f"{d.get('workflow')} resumed after {d.get('gap_seconds')}s without progress"
        + (f", waiting on {', '.join(d['waiting_steps'])}" if d.get("waiting_steps") else "")),
    WorkflowApprovalRequested.TYPE: lambda d: (
        f"approval {d.get('step')} requested (default {d.get('default')}"
        + (f" at {_hms(d['expires_at'])}" if d.get("expires_at") else "") + ")"
        + _note(d, "summary")),
    WorkflowApprovalDecided.TYPE: lambda d: (
        f"{'approved' if d.get('approved') else 'rejected'} {d.get('step')}" + _note(d)),
    WorkflowNotificationDelivered.TYPE: lambda d: (
        f"notified {d.get('group')} via {d.get('target')}: "
        + (f"delivered ({d.get('attempts')} attempts)" if d.get("ok")
           else f"failed after {d.get('attempts')} attempts" + _note(d, "error"))),
    WorkflowProposalApplied.TYPE: lambda d: (
        f"applied {d.get('action')} on {d.get('target')} from agent:{d.get('agent')}"
        + (f", approved by {d['approved_by']}" if d.get("approved_by") else "")),
    WorkflowProposalRefused.TYPE: lambda d: (
        f"refused {d.get('action')} on {d.get('target')} from agent:{d.get('agent')}"
        + _note(d, "reason")),
    PostIncidentReviewRecorded.TYPE: lambda d: "post-incident review recorded",
    AccessDenied.TYPE: lambda d: (
        f"denied {d.get('action')} to {d.get('principal')}" + _note(d, "reason")),
    IncidentPaged.TYPE: lambda d: (
        f"level {d.get('level')} of {d.get('policy')} paged "
        f"{', '.join(d.get('users') or []) or 'nobody (no one on call)'}"),
    NotificationSent.TYPE: lambda d: (
        f"{d.get('channel')} to {d.get('user')}: {d.get('outcome')}" + _note(d, "detail")),
    PagingStopped.TYPE: lambda d: "paging stopped" + _note(d, "reason"),
    PageActedOn.TYPE: lambda d: f"{d.get('action')} from the link in the page",
    PageDeferred.TYPE: lambda d: (
        f"level {d.get('level')} waits until {_hms(d.get('until'))}: "
        f"{d.get('silence_id')} covers it"),
    OverrideCreated.TYPE: lambda d: (
        f"override: {(d.get('override') or {}).get('user')} takes "
        f"{(d.get('override') or {}).get('schedule')}"),
    OverrideRemoved.TYPE: lambda d: (
        f"override {(d.get('override') or {}).get('override_id')} removed"),
    ChangeRequested.TYPE: lambda d: (
        f"{d.get('type')} change {d.get('change_id')} requested ({d.get('risk')} risk): "
        f"{d.get('title')}"),
    ChangeApproved.TYPE: lambda d: (
        f"change {d.get('change_id')} approved by {', '.join(d.get('approved_by') or [])}"),
    ChangeRejected.TYPE: lambda d: (
        f"change {d.get('change_id')} rejected by {d.get('rejected_by')}" + _note(d, "reason")),
    ChangeStarted.TYPE: lambda d: (
        f"change {d.get('change_id')} started on {', '.join(d.get('services') or [])}"),
    ChangeCompleted.TYPE: lambda d: (
        f"change {d.get('change_id')} completed: {d.get('outcome')}" + _note(d)),
    ChangeCancelled.TYPE: lambda d: f"change {d.get('change_id')} cancelled" + _note(d, "reason"),
    ChangeReviewed.TYPE: lambda d: (
        f"change {d.get('change_id')} reviewed by {d.get('reviewed_by')}: "
        + ("accepted" if d.get("accepted") else "not accepted")),
    ChangeIncidentLinked.TYPE: lambda d: (
        f"{d.get('incident_id')} linked to change {d.get('change_id')}: {d.get('reason')}"),
    ServiceNowRecordCreated.TYPE: lambda d: (
        f"ServiceNow {d.get('number')} "
        + ("taken over (made by an earlier try)" if d.get("adopted") else "created")),
    ServiceNowRecordUpdated.TYPE: lambda d: (
        f"ServiceNow {d.get('number')} updated: "
        + ", ".join([*(d.get("fields") or []), *(["work note"] if d.get("work_notes") else [])])),
    ServiceNowUpdateApplied.TYPE: lambda d: (
        f"from ServiceNow {d.get('number')} ({d.get('updated_by')}): "
        + "; ".join(d.get("changes") or [])),
    ServiceNowSyncFailed.TYPE: lambda d: (
        f"ServiceNow sync failed ({d.get('direction')}"
        + (f", {d['field']}" if d.get("field") else "") + f"): {d.get('problem')}"),
}

# What a type without its own line is most likely told by (events added later).
_TELLING = ("step", "decision", "outcome", "group", "reason", "error", "note")


def summary(type_: str, data: Data) -> str:
    """A short human line for an event of ``type_``; falls back to the type's name."""
    line = SUMMARIES.get(type_)
    if line is not None:
        try:
            return line(data)
        except Exception:  # a line that cannot read this version's data: say what it is
            pass
    name = subjects.kind(type_)
    told = [f"{k}={data[k]}" for k in _TELLING if isinstance(data.get(k), str | int) and data[k]]
    return " ".join([name, *told[:2]])


def actor(type_: str, source: str, data: Data) -> str:
    """Who did it: the event's actor, the refused principal, the agent, else the service."""
    for key in ("actor", "principal"):
        if isinstance(data.get(key), str) and data[key]:
            return str(data[key])
    if isinstance(data.get("agent"), str) and subjects.domain(type_) == "agent":
        return f"agent:{data['agent']}"
    if type_ == PageActedOn.TYPE and isinstance(data.get("user"), str):
        return f"user:{data['user']}"  # the person paged, acting from the page's link
    return source
