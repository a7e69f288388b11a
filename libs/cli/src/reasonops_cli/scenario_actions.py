"""What people do in a scenario: the commands ``reasonops incidents ack|resolve|close...``
and ``reasonops workflows approve|reject`` send, sent the same way, as the script's actor
(the principal the role policy checks)."""

from __future__ import annotations

from nats.aio.client import Client

from reasonops_contracts import Command, ReplyError
from reasonops_contracts.incidents import (
    AcknowledgeIncident,
    AssignIncident,
    CloseIncident,
    CommentIncident,
    DeclareMajorIncident,
    IncidentView,
    ResolveIncident,
)
from reasonops_contracts.workflows import (
    ApproveStep,
    ListWorkflowInstances,
    RejectStep,
    WorkflowInstanceList,
    WorkflowView,
)
from reasonops_runtime.client import request

from .scenario_script import Act

COMMANDS: dict[str, type[AcknowledgeIncident | ResolveIncident | CloseIncident
                         | DeclareMajorIncident]] = {
    "ack": AcknowledgeIncident, "resolve": ResolveIncident, "close": CloseIncident,
    "major": DeclareMajorIncident}


def incident_message(act: Act, incident_id: str) -> Command:
    """The command ``reasonops incidents <verb> INCIDENT`` sends for ``act``."""
    if act.command == "assign":
        return AssignIncident(incident_id=incident_id, actor=act.actor,
                              assignment_group=act.group or "", note=act.note)
    if act.command == "comment":
        return CommentIncident(incident_id=incident_id, actor=act.actor, note=act.note)
    return COMMANDS[act.command](incident_id=incident_id, actor=act.actor, note=act.note)


async def incident_command(nc: Client, act: Act, incident_id: str, notes: list[str]) -> bool:
    try:
        await request(nc, incident_message(act, incident_id), IncidentView)
    except ReplyError as exc:
        notes.append(f"{act.label} ({incident_id}) refused: {exc.detail.code}: "
                     f"{exc.detail.message}")
        return False
    return True


async def instance_with(nc: Client, incident_id: str, step: str, states: set[str]
                        ) -> str | None:
    """The workflow instance of the incident whose ``step`` is in one of ``states``."""
    found = await request(nc, ListWorkflowInstances(incident_id=incident_id),
                          WorkflowInstanceList)
    return next((w.workflow_id for w in found.items for s in w.steps
                 if s.step == step and s.state in states), None)


async def decide(nc: Client, act: Act, incident_id: str, notes: list[str]
                 ) -> tuple[bool, str]:
    """Approve or reject the incident's workflow step that waits for a person; whether it
    was accepted, and the command as the user would type it."""
    step = act.step or ""
    workflow_id = await instance_with(nc, incident_id, step, {"waiting"})
    typed = f"reasonops workflows {act.command} {workflow_id or '?'} {step}"
    if workflow_id is None:
        notes.append(f"{act.label}: no workflow of {incident_id} waits at step {step!r}")
        return False, typed
    kind = ApproveStep if act.command == "approve" else RejectStep
    try:
        await request(nc, kind(workflow_id=workflow_id, step=step, actor=act.actor,
                               note=act.note), WorkflowView)
    except ReplyError as exc:
        notes.append(f"{act.label} refused: {exc.detail.code}: {exc.detail.message}")
        return False, typed
    return True, typed
