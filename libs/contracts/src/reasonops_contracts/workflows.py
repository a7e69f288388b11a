"""Workflows run by the orchestrator."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, JsonValue

from . import subjects
from .messages import Event, Query, View

WorkflowState = Literal["running", "completed", "failed"]


class WorkflowStarted(Event):
    TYPE = "itsm.workflow.started.v1"
    SUBJECT = subjects.WORKFLOW_STARTED

    workflow_id: str
    workflow: str
    version: int
    incident_id: str
    started_at: datetime


class WorkflowStepCompleted(Event):
    TYPE = "itsm.workflow.step_completed.v1"
    SUBJECT = subjects.WORKFLOW_STEP_COMPLETED

    workflow_id: str
    workflow: str
    step: str
    incident_id: str
    completed_at: datetime
    result: dict[str, JsonValue] = Field(default_factory=dict)


class WorkflowCompleted(Event):
    TYPE = "itsm.workflow.completed.v1"
    SUBJECT = subjects.WORKFLOW_COMPLETED

    workflow_id: str
    workflow: str
    incident_id: str
    completed_at: datetime
    outcome: str


class WorkflowFailed(Event):
    TYPE = "itsm.workflow.failed.v1"
    SUBJECT = subjects.WORKFLOW_FAILED

    workflow_id: str
    workflow: str
    incident_id: str
    step: str
    failed_at: datetime
    error: str


class GetWorkflow(Query):
    SUBJECT = subjects.WORKFLOW_QUERY_GET

    incident_id: str


class WorkflowStepView(View):
    step: str
    state: Literal["pending", "waiting", "completed", "failed"]
    started_at: datetime | None = None
    completed_at: datetime | None = None
    result: dict[str, JsonValue] = Field(default_factory=dict)


class WorkflowView(View):
    workflow_id: str
    workflow: str
    version: int
    incident_id: str
    state: WorkflowState
    started_at: datetime
    completed_at: datetime | None = None
    steps: list[WorkflowStepView]
