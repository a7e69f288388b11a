"""What the ``notify``, ``apply_proposal`` and ``review`` steps do, given the runner's I/O."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from reasonops_contracts import Event
from reasonops_contracts.workflows import WorkflowNotificationDelivered

from . import events as recorded
from .domain import Instance, Outcome
from .events import about
from .notify import Notification

if TYPE_CHECKING:
    from reasonops_runtime import Service
    from reasonops_runtime.policy import Policy

    from .notify import Notifier

CONTAINMENT_GROUP = "containment"
NOTIFIED = {"escalate": "escalation", "notify_supplier": "suppliers",
            "reassign": "escalation"}
"""The notification group that carries out an action no command does (a reassignment
without a group to go to is the escalation's to decide)."""


class EffectRunner(Protocol):
    """The runner's I/O these steps use (``runner.EffectRunner`` is one)."""

    service: Service
    notifier: Notifier
    policy: Policy
    review_wait: float
    """Seconds a review waits for SLM and finance to have handled the resolution."""

    async def request(self, model_name: str, args: dict[str, Any],
                      timeout: float = 5.0) -> Outcome: ...


async def notify(runner: EffectRunner, instance: Instance, row: Any,
                 payload: dict[str, Any]) -> Outcome:
    """Tell the step's group, each target once per key (a retried round sends again)."""
    key = f"{row.workflow_id}:{row.step}:{row.attempt}:{payload.get('round', 1)}"
    notification = Notification(key=key, title=str(payload.get("title", "")),
                                text=str(payload.get("text", "")),
                                severity=str(payload.get("severity", "info")),
                                incident_id=instance.incident_id)
    group = str(payload["group"])
    if group not in runner.notifier.groups():
        # Nobody to tell is a configuration fact, not a failure of the workflow.
        runner.notifier.untargeted(group)
        return Outcome(True, output={"group": group, "delivered": [],
                                     "skipped": "no targets configured for the group"})
    deliveries = await runner.notifier.send(group, notification)
    events: list[Event] = [WorkflowNotificationDelivered(
        **about(instance), step=row.step, key=key, group=d.group, target=d.target,
        ok=d.ok, attempts=d.attempts, status=d.status, error=d.error, delivered_at=d.at)
        for d in deliveries]
    delivered = [d.target for d in deliveries if d.ok]
    if deliveries and not delivered:
        return Outcome(False, error=f"no target of {group} accepted the notification",
                       events=events)
    return Outcome(True, output={"group": group, "delivered": delivered,
                                 "failed": [d.target for d in deliveries if not d.ok]},
                   events=events)


async def apply_proposals(runner: EffectRunner, instance: Instance, step: str,
                          payload: dict[str, Any], found: list[dict[str, Any]]) -> Outcome:
    """Apply each proposal of the decision the role policy allows and an approval granted."""
    now = runner.service.clock.now()
    events: list[Event] = []
    applied: list[str] = []
    refused: list[str] = []
    approved_by = payload.get("approved_by")
    team, owner = instance.scope()
    for proposal in found:
        principal = f"agent:{proposal['agent']}"
        action = f"proposal.{proposal['action']}"
        verdict = runner.policy.check(principal, action, team=team, service=owner)
        reason = ""
        if not verdict.allowed:
            reason = verdict.reason or f"{principal} may not {action}"
            events.append(recorded.proposal_denied(
                instance, principal, action, list(verdict.roles), reason, team, owner,
                proposal["target"], now))
        elif (verdict.requires_approval or proposal.get("requires_approval")) \
                and not approved_by:
            reason = "needs an approval that was not granted"
        if reason:
            refused.append(proposal["proposal_id"])
            events.append(recorded.proposal_refused(instance, step, proposal, reason, now))
            continue
        how = await _carry_out(runner, instance, proposal)
        applied.append(proposal["proposal_id"])
        events.append(recorded.proposal_applied(instance, step, proposal, how, approved_by,
                                                now))
    return Outcome(True, output={"applied": applied, "refused": refused}, events=events)


async def _carry_out(runner: EffectRunner, instance: Instance, proposal: dict[str, Any]) -> str:
    action, incident = proposal["action"], instance.incident_id or proposal["target"]
    said = f"{action} proposed by agent:{proposal['agent']}: {proposal.get('reason', '')}"
    if action == "raise_urgency":
        # Incidents has no command that only raises urgency: declaring it major does.
        return await _command(runner, "DeclareMajorIncident", {
            "incident_id": incident, "actor": "service:orchestrator",
            "note": f"raise_urgency proposed by agent:{proposal['agent']}"})
    if action == "raise_priority":
        found = await runner.request("GetIncident", {"incident_id": incident})
        if not found.ok:
            raise RuntimeError(f"GetIncident {incident}: {found.error}")
        impact, urgency = int(found.output["impact"]), int(found.output["urgency"])
        if (impact, urgency) == (1, 1):
            return f"{incident} is already P1"
        impact, urgency = (impact, urgency - 1) if urgency > 1 else (impact - 1, urgency)
        return await _command(runner, "ChangeIncidentPriority", {
            "incident_id": incident, "actor": "service:orchestrator", "impact": impact,
            "urgency": urgency, "note": said[:4096]})
    if action == "reassign" and proposal.get("parameters", {}).get("to_group"):
        return await _command(runner, "AssignIncident", {
            "incident_id": incident, "actor": "service:orchestrator",
            "assignment_group": proposal["parameters"]["to_group"], "note": said[:4096]})
    # No executor inside ReasonOps: the group's people or automation carry it out.
    group = NOTIFIED.get(action, CONTAINMENT_GROUP)
    if group not in runner.notifier.groups():
        return f"published only: no {group} targets configured"
    parameters = {k: str(v) for k, v in (proposal.get("parameters") or {}).items() if v}
    await runner.notifier.send(group, Notification(
        key=f"{instance.instance_id}:{proposal['proposal_id']}",
        title=f"Containment: {action} {proposal['target']}" if group == CONTAINMENT_GROUP
        else f"{action.replace('_', ' ').capitalize()}: {proposal['target']}",
        text=proposal.get("reason", ""),
        severity="critical" if group == CONTAINMENT_GROUP else "warning",
        incident_id=instance.incident_id,
        fields={"action": action, "target": proposal["target"], **parameters}))
    return f"notified {group}"


async def _command(runner: EffectRunner, command: str, args: dict[str, Any]) -> str:
    outcome = await runner.request(command, args)
    if not outcome.ok:
        raise RuntimeError(f"{command} {args['incident_id']}: {outcome.error}")
    return f"{command} {args['incident_id']}"


REVIEWED = {"incident": "GetIncident", "sla": "GetSlaStatus", "ledger": "ListLedgerEntries",
            "cost": "GetIncidentCost"}
"""What a review reads, each from the service that owns it."""
OWNERS = {"sla": "slm", "cost": "finance"}
"""The answers that lag while their owner has not yet handled the incident's resolution."""
FIRST_RETRY_SECONDS = 0.05


async def review(runner: EffectRunner, instance: Instance, step: str,
                 payload: dict[str, Any]) -> Outcome:
    """The post-incident review: the incident's timeline, the agents' decisions, the SLA
    outcome and the cost, each read from the service that owns it. The cost is what the
    incident's resolution cost (reckoned as it will be booked at its close) plus the
    penalties booked by then.

    SLM and finance learn of the resolution from the incident's events, in their own time:
    while either answers as if the incident were open (a clock running, a cost reckoned to
    now), it is asked again, for up to ``runner.review_wait`` seconds; then the review is
    recorded with what they said and a note of which was behind."""
    incident_id = instance.incident_id
    record: dict[str, Any] = {"incident_id": incident_id, "workflow_id": instance.instance_id,
                              "decisions": payload.get("decisions", {}), "missing": []}
    if incident_id:
        answers = {name: await _ask(runner, query, incident_id)
                   for name, query in REVIEWED.items()}
        behind = await _until_settled(runner, incident_id, answers)
        for name, outcome in answers.items():
            if outcome.ok:
                record[name] = outcome.output
            else:
                record["missing"].append(f"{name}: {outcome.error}")
        record["missing"] += [
            f"{name}: {OWNERS[name]} had not handled the resolution after "
            f"{runner.review_wait:g}s; as it answered then" for name in behind]
    incident = record.pop("incident", {}) or {}
    record["title"] = incident.get("title")
    record["timeline"] = incident.get("timeline", [])
    sla = record.pop("sla", {}) or {}
    record["sla"] = [{k: c.get(k) for k in ("kind", "agreement", "state", "elapsed_seconds",
                                            "target_seconds")} for c in sla.get("clocks", [])]
    entries = (record.pop("ledger", {}) or {}).get("items", [])
    own = record.pop("cost", None)
    record["cost"] = _cost(entries, own)
    record["cost_detail"] = own.get("memo") if own else None
    event = recorded.review_recorded(instance, step, record, runner.service.clock.now())
    return Outcome(True, output={"review": "recorded", "missing": record["missing"]},
                   events=[event], review=record)


async def _ask(runner: EffectRunner, query: str, incident_id: str) -> Outcome:
    try:
        return await runner.request(query, {"incident_id": incident_id})
    except Exception as exc:  # a service down leaves a gap, not a missing review
        return Outcome(False, error=repr(exc))


async def _until_settled(runner: EffectRunner, incident_id: str,
                         answers: dict[str, Outcome]) -> list[str]:
    """Ask SLM and finance again, waiting longer each time, while they answer as if the
    resolved incident were open; the ledger is read again with them (a penalty may be
    booked meanwhile). Returns the names still behind when the wait ran out."""
    found = answers["incident"]
    if not (found.ok and found.output.get("state") in ("resolved", "closed")):
        return []
    loop = asyncio.get_running_loop()
    deadline, delay = loop.time() + runner.review_wait, FIRST_RETRY_SECONDS
    while behind := [name for name in OWNERS if _behind(name, answers[name])]:
        left = deadline - loop.time()
        if left <= 0:
            return behind
        await asyncio.sleep(min(delay, left))
        delay *= 2
        for name in (*behind, "ledger"):
            answers[name] = await _ask(runner, REVIEWED[name], incident_id)
    return []


def _behind(name: str, outcome: Outcome) -> bool:
    if not outcome.ok:
        return False
    if name == "sla":
        return any(c.get("state") == "running" for c in outcome.output.get("clocks", []))
    return not outcome.output.get("resolved")


def _cost(entries: list[dict[str, Any]], own: dict[str, Any] | None) -> dict[str, str]:
    """By currency: the incident's own cost (reckoned, or as booked when finance could
    not reckon it) and the penalties booked."""
    totals: dict[str, Decimal] = {}

    def add(currency: Any, amount: Any) -> None:
        totals[str(currency)] = totals.get(str(currency), Decimal(0)) + Decimal(str(amount))

    for entry in entries:
        if own is None or entry.get("kind") != "incident_cost":
            add(entry.get("currency", ""), entry.get("amount", 0))
    if own is not None:
        add(own["currency"], own["total"])
    return {c: str(v) for c, v in totals.items()}
