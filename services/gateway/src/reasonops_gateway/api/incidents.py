"""``/api/incidents``: the list (filters, sort, cursor pagination, total), one incident
with its timeline, its SLA clocks, its workflow, the agents' briefing and its audit
trail, and every lifecycle command."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from reasonops_client.agents import AgentsUnavailable, read_briefing
from reasonops_client.trail import AuditUnavailable, collect_trail
from reasonops_contracts.agents import AgentDecisionRecorded
from reasonops_contracts.api import IncidentPage, Trail, TrailItem
from reasonops_contracts.finance import GetIncidentCost, IncidentCostView
from reasonops_contracts.incidents import (
    INCIDENT_ID_PATTERN,
    AcknowledgeIncident,
    AssignIncident,
    ChangeIncidentPriority,
    CloseIncident,
    CommentIncident,
    CountIncidents,
    CreateIncident,
    DeclareMajorIncident,
    GetIncident,
    HoldIncident,
    IncidentCounts,
    IncidentSort,
    IncidentState,
    IncidentView,
    ListIncidents,
    ReopenIncident,
    ResolveIncident,
    ResumeIncident,
)
from reasonops_contracts.reviews import GetPostIncidentReview, PostIncidentReviewView
from reasonops_contracts.slm import GetSlaStatus, SlaStatus
from reasonops_contracts.workflows import GetWorkflow, WorkflowView

from .bodies import body_of
from .context import CallerDep, GatewayDep, decode_cursor, next_cursor
from .errors import Problem

router = APIRouter(prefix="/api/incidents", tags=["incidents"])
if TYPE_CHECKING:  # the bodies are made at import; to mypy, any model
    AssignBody = BaseModel
    CommentBody = BaseModel
    CreateBody = BaseModel
    PriorityBody = BaseModel
else:
    AssignBody = body_of(AssignIncident, without=("incident_id",))
    CommentBody = body_of(CommentIncident, without=("incident_id",))
    CreateBody = body_of(CreateIncident)
    PriorityBody = body_of(ChangeIncidentPriority, without=("incident_id",))

IncidentId = Annotated[str, Path(pattern=INCIDENT_ID_PATTERN, description="INC0000001")]


class NoteBody(BaseModel):
    model_config = {"extra": "forbid"}
    note: str | None = Field(default=None, max_length=4096, description="Why, for the "
                             "timeline")




@router.get("", response_model=IncidentPage, summary="List incidents")
async def list_incidents(
    caller: CallerDep, gateway: GatewayDep,
    state: Annotated[list[IncidentState] | None, Query()] = None,
    priority: Annotated[list[int] | None, Query(description="1..5")] = None,
    service: str | None = None,
    assignment_group: str | None = None,
    text: Annotated[str | None, Query(min_length=1, max_length=256, description=(
        "Substring of title, service, resource or number"))] = None,
    major: bool | None = None,
    problem_id: str | None = None,
    opened_from: datetime | None = None,
    opened_to: datetime | None = None,
    sort: IncidentSort = "opened_at",
    order: Literal["asc", "desc"] = "desc",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response:
    """Newest first by default; ``next_cursor`` pages through everything that matches."""
    filters: dict[str, Any] = {
        "states": state, "priorities": priority, "service": service,
        "assignment_group": assignment_group, "text": text, "major": major,
        "problem_id": problem_id, "opened_from": opened_from, "opened_to": opened_to,
        "sort": sort, "descending": order == "desc"}
    offset = decode_cursor(cursor, filters)
    found = await gateway.relay(caller, ListIncidents(**filters, limit=limit, offset=offset))
    items = found["items"]
    total = found.get("total")
    total = total if total is not None else offset + len(items)
    return JSONResponse({"items": items, "total": total,
                         "next_cursor": next_cursor(offset, len(items), total, filters)})


@router.post("", response_model=IncidentView, status_code=201,
             summary="Open an incident by hand (the service desk)")
async def create(caller: CallerDep, gateway: GatewayDep, body: CreateBody) -> Response:
    """Priority from the ITIL matrix of ``impact`` and ``urgency``; then the same
    lifecycle, SLA clocks, triage and workflows as one opened from monitoring. Takes
    ``incident.create``."""
    found = await gateway.relay(caller, CreateIncident(**body.model_dump()))
    return JSONResponse(found, status_code=201,
                        headers={"Location": f"/api/incidents/{found['incident_id']}"})


@router.get("/counts", response_model=IncidentCounts, summary="Incidents by state and priority")
async def counts(caller: CallerDep, gateway: GatewayDep, service: str | None = None,
                 assignment_group: str | None = None, opened_from: datetime | None = None,
                 opened_to: datetime | None = None) -> IncidentCounts:
    return await gateway.ask(caller, CountIncidents(
        service=service, assignment_group=assignment_group, opened_from=opened_from,
        opened_to=opened_to), IncidentCounts)


@router.get("/{incident_id}", response_model=IncidentView, summary="One incident")
async def show(caller: CallerDep, gateway: GatewayDep, incident_id: IncidentId) -> Response:
    """With its timeline, resources, probable cause and problem."""
    return JSONResponse(await gateway.relay(caller, GetIncident(incident_id=incident_id)))


@router.get("/{incident_id}/sla", response_model=SlaStatus, summary="Its SLA clocks")
async def sla(caller: CallerDep, gateway: GatewayDep, incident_id: IncidentId) -> SlaStatus:
    return await gateway.ask(caller, GetSlaStatus(incident_id=incident_id), SlaStatus)


@router.get("/{incident_id}/workflow", response_model=WorkflowView,
            summary="The workflow instance it started")
async def workflow(caller: CallerDep, gateway: GatewayDep, incident_id: IncidentId,
                   name: str = "incident-response") -> WorkflowView:
    return await gateway.ask(caller, GetWorkflow(incident_id=incident_id, workflow=name),
                             WorkflowView)


@router.get("/{incident_id}/cost", response_model=IncidentCostView,
            summary="What it costs, booked or not")
async def cost(caller: CallerDep, gateway: GatewayDep,
               incident_id: IncidentId) -> IncidentCostView:
    """Downtime by its service's tier and the responders' effort, to its resolution (or
    to now while it is open); the ledger entry once booked, when it closes."""
    return await gateway.ask(caller, GetIncidentCost(incident_id=incident_id),
                             IncidentCostView)


@router.get("/{incident_id}/review", response_model=PostIncidentReviewView,
            summary="Its post-incident review")
async def review(caller: CallerDep, gateway: GatewayDep,
                 incident_id: IncidentId) -> PostIncidentReviewView:
    """What the major-incident workflow recorded when it resolved: the timeline, each
    agent's decision, the SLA clocks and the cost booked (404 before)."""
    return await gateway.ask(caller, GetPostIncidentReview(incident_id=incident_id),
                             PostIncidentReviewView)


@router.get("/{incident_id}/briefing", response_model=AgentDecisionRecorded,
            summary="The agents' views of it in one briefing")
async def briefing(caller: CallerDep, gateway: GatewayDep,
                   incident_id: IncidentId) -> AgentDecisionRecorded:
    """The latest briefing decision: triage, root cause, service level and security
    views combined, each with its evidence and the decision it comes from. Made once two
    agents have spoken about the incident; 404 before. Only for those who may read the
    incident and the agents' decisions."""
    await gateway.visibility(caller, "agent decisions")
    shown = await gateway.ask(caller, GetIncident(incident_id=incident_id), IncidentView)
    try:
        found = await gateway.ask_all(lambda nc: read_briefing(nc, incident_id,
                                                               shown.opened_at))
    except AgentsUnavailable as exc:
        raise Problem(503, "unavailable", str(exc), headers={"Retry-After": "2"}) from None
    if found is None:
        raise Problem(404, "not_found", f"{incident_id}: no briefing yet (one is made once "
                      "two agents have decided about the incident)")
    return found


@router.get("/{incident_id}/audit", response_model=Trail, summary="Its audit trail")
async def audit(caller: CallerDep, gateway: GatewayDep, incident_id: IncidentId) -> Trail:
    """Every message of its causal chain, from the alert to the ledger, in order. Only
    for those who may read the incident."""
    await gateway.ask(caller, GetIncident(incident_id=incident_id), IncidentView)
    try:
        found = await collect_trail(gateway.nc, incident_id, timeout=gateway.timeout)
    except AuditUnavailable as exc:
        raise Problem(503, "unavailable", str(exc), headers={"Retry-After": "2"}) from None
    return Trail(incident_id=incident_id, items=[TrailItem(
        at=e.at, type=e.type, subject=e.subject, actor=e.actor, summary=e.summary)
        for e in found])


def _transition(path: str, command: type, summary: str) -> None:
    async def act(caller: CallerDep, gateway: GatewayDep, incident_id: IncidentId,
                  body: NoteBody | None = None) -> Response:
        note = body.note if body is not None else None
        return JSONResponse(await gateway.relay(caller, command(incident_id=incident_id,
                                                                note=note)))

    act.__name__ = f"incident_{path.replace('-', '_')}"
    act.__doc__ = f"{summary} Answers with the incident as it is now."
    router.post(f"/{{incident_id}}/{path}", response_model=IncidentView,
                summary=summary.rstrip("."))(act)


_transition("acknowledge", AcknowledgeIncident, "Acknowledge: someone is on it.")
_transition("resolve", ResolveIncident, "Resolve: service restored.")
_transition("close", CloseIncident, "Close a resolved incident.")
_transition("reopen", ReopenIncident, "Reopen a resolved incident.")
_transition("hold", HoldIncident, "Put on hold (note: why).")
_transition("resume", ResumeIncident, "Resume a held incident.")
_transition("declare-major", DeclareMajorIncident, "Declare a major incident.")


@router.post("/{incident_id}/assign", response_model=IncidentView, summary="Assign to a group")
async def assign(caller: CallerDep, gateway: GatewayDep, incident_id: IncidentId,
                 body: AssignBody) -> Response:
    return JSONResponse(await gateway.relay(caller, AssignIncident(
        incident_id=incident_id, **body.model_dump())))


@router.post("/{incident_id}/priority", response_model=IncidentView,
             summary="Reassess impact and urgency (priority from the ITIL matrix)")
async def change_priority(caller: CallerDep, gateway: GatewayDep, incident_id: IncidentId,
                          body: PriorityBody) -> Response:
    return JSONResponse(await gateway.relay(caller, ChangeIncidentPriority(
        incident_id=incident_id, **body.model_dump())))


@router.post("/{incident_id}/comments", response_model=IncidentView, status_code=201,
             summary="Comment on the timeline")
async def comment(caller: CallerDep, gateway: GatewayDep, incident_id: IncidentId,
                  body: CommentBody) -> Response:
    return JSONResponse(await gateway.relay(caller, CommentIncident(
        incident_id=incident_id, **body.model_dump())), status_code=201)
