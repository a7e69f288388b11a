"""``/api/workflows``: definitions, instances with their steps, approvals."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from reasonops_contracts.reviews import GetPostIncidentReview, PostIncidentReviewView
from reasonops_contracts.workflows import (
    ApproveStep,
    GetWorkflow,
    ListWorkflowDefinitions,
    ListWorkflowInstances,
    RejectStep,
    WorkflowDefinitionList,
    WorkflowInstanceList,
    WorkflowState,
    WorkflowView,
)

from .context import CallerDep, GatewayDep

router = APIRouter(prefix="/api/workflows", tags=["workflows"])
InstanceId = Annotated[str, Path(min_length=1, max_length=128)]
StepName = Annotated[str, Path(min_length=1, max_length=64)]


class DecisionBody(BaseModel):
    model_config = {"extra": "forbid"}
    note: str | None = Field(default=None, max_length=4096)


@router.get("/definitions", response_model=WorkflowDefinitionList,
            summary="Workflow definitions")
async def definitions(caller: CallerDep, gateway: GatewayDep) -> WorkflowDefinitionList:
    return await gateway.ask(caller, ListWorkflowDefinitions(), WorkflowDefinitionList)


@router.get("/instances", response_model=WorkflowInstanceList, summary="Workflow instances")
async def instances(caller: CallerDep, gateway: GatewayDep, workflow: str | None = None,
                    state: WorkflowState | None = None, incident_id: str | None = None,
                    limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> WorkflowInstanceList:
    return await gateway.ask(caller, ListWorkflowInstances(
        workflow=workflow, state=state, incident_id=incident_id, limit=limit),
        WorkflowInstanceList)


@router.get("/instances/{workflow_id}", response_model=WorkflowView,
            summary="One instance and its steps")
async def show(caller: CallerDep, gateway: GatewayDep, workflow_id: InstanceId) -> WorkflowView:
    return await gateway.ask(caller, GetWorkflow(workflow_id=workflow_id), WorkflowView)


@router.get("/instances/{workflow_id}/review", response_model=PostIncidentReviewView,
            summary="The post-incident review an instance recorded")
async def review(caller: CallerDep, gateway: GatewayDep,
                 workflow_id: InstanceId) -> PostIncidentReviewView:
    return await gateway.ask(caller, GetPostIncidentReview(workflow_id=workflow_id),
                             PostIncidentReviewView)


@router.post("/instances/{workflow_id}/steps/{step}/approve", response_model=WorkflowView,
             summary="Grant a waiting approval step")
async def approve(caller: CallerDep, gateway: GatewayDep, workflow_id: InstanceId,
                  step: StepName, body: DecisionBody | None = None) -> WorkflowView:
    return await gateway.ask(caller, ApproveStep(workflow_id=workflow_id, step=step,
                                                 note=body.note if body else None),
                             WorkflowView)


@router.post("/instances/{workflow_id}/steps/{step}/reject", response_model=WorkflowView,
             summary="Refuse a waiting approval step")
async def reject(caller: CallerDep, gateway: GatewayDep, workflow_id: InstanceId,
                 step: StepName, body: DecisionBody | None = None) -> WorkflowView:
    return await gateway.ask(caller, RejectStep(workflow_id=workflow_id, step=step,
                                                note=body.note if body else None),
                             WorkflowView)
