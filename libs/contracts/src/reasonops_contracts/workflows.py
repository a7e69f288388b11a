"""Workflows run by the orchestrator.

Every workflow event names its instance (``workflow_id``) and the incident it is about
(``incident_id``; None for a workflow about several, which carry ``incident_ids``), so
the audit trail finds an incident's chain by ``incident_id``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, JsonValue

from . import subjects
from .messages import Actor, Command, Event, Query, View

WorkflowState = Literal["queued", "running", "compensating", "completed", "failed"]
StepState = Literal["pending", "waiting", "retrying", "completed", "skipped", "failed",
                    "cancelled"]


class _WorkflowEvent(Event):
    workflow_id: str
    workflow: str
    incident_id: str | None = None
    incident_ids: list[str] = Field(default_factory=list)


class WorkflowStarted(_WorkflowEvent):
    SUBJECT = subjects.WORKFLOW_STARTED

    version: int
    started_at: datetime
    trigger: str = Field(default="", description="Event type that started it")


class WorkflowQueued(_WorkflowEvent):
    """Triggered while ``max_concurrent`` instances ran; starts when one finishes."""

    SUBJECT = subjects.WORKFLOW_QUEUED

    version: int
    queued_at: datetime
    running: int


class WorkflowStepStarted(_WorkflowEvent):
    SUBJECT = subjects.WORKFLOW_STEP_STARTED

    step: str
    kind: str
    attempt: int
    started_at: datetime


class WorkflowStepCompleted(_WorkflowEvent):
    SUBJECT = subjects.WORKFLOW_STEP_COMPLETED

    step: str
    completed_at: datetime
    result: dict[str, JsonValue] = Field(default_factory=dict)
    attempt: int = 1


class WorkflowStepSkipped(_WorkflowEvent):
    SUBJECT = subjects.WORKFLOW_STEP_SKIPPED

    step: str
    reason: str
    skipped_at: datetime


class WorkflowStepRetried(_WorkflowEvent):
    """An attempt failed; the next one starts at ``retry_at``."""

    SUBJECT = subjects.WORKFLOW_STEP_RETRIED

    step: str
    attempt: int = Field(description="The attempt that failed")
    error: str
    retry_at: datetime


class WorkflowStepFailed(_WorkflowEvent):
    SUBJECT = subjects.WORKFLOW_STEP_FAILED

    step: str
    attempt: int
    error: str
    failed_at: datetime


class WorkflowCompleted(_WorkflowEvent):
    SUBJECT = subjects.WORKFLOW_COMPLETED

    completed_at: datetime
    outcome: str


class WorkflowCompensated(_WorkflowEvent):
    """The compensation steps of a failed step ran; the instance fails next."""

    SUBJECT = subjects.WORKFLOW_COMPENSATED

    step: str = Field(description="The step that failed")
    compensations: dict[str, str] = Field(description="Compensation step -> its state")
    compensated_at: datetime


class WorkflowFailed(_WorkflowEvent):
    SUBJECT = subjects.WORKFLOW_FAILED

    step: str
    failed_at: datetime
    error: str


class WorkflowResumed(_WorkflowEvent):
    """The orchestrator started again with this instance running: the gap is on record."""

    SUBJECT = subjects.WORKFLOW_RESUMED

    last_progress_at: datetime
    resumed_at: datetime
    gap_seconds: float
    waiting_steps: list[str] = Field(default_factory=list)


class WorkflowApprovalRequested(_WorkflowEvent):
    SUBJECT = subjects.WORKFLOW_APPROVAL_REQUESTED

    step: str
    requested_at: datetime
    expires_at: datetime | None = None
    default: Literal["approve", "reject"]
    summary: str = ""


class WorkflowApprovalDecided(_WorkflowEvent):
    SUBJECT = subjects.WORKFLOW_APPROVAL_DECIDED

    step: str
    approved: bool
    actor: str = Field(description="Who decided; system:timeout for the default")
    note: str | None = None
    decided_at: datetime


class WorkflowNotificationDelivered(_WorkflowEvent):
    """One notification at one target: delivered or not (``ok``), after ``attempts``."""

    SUBJECT = subjects.WORKFLOW_NOTIFICATION_DELIVERED

    step: str
    key: str
    group: str
    target: str
    ok: bool
    attempts: int
    status: int | None = None
    error: str = ""
    delivered_at: datetime


class WorkflowProposalApplied(_WorkflowEvent):
    SUBJECT = subjects.WORKFLOW_PROPOSAL_APPLIED

    step: str
    proposal_id: str
    agent: str
    action: str
    target: str
    how: str = Field(description="What applying meant, e.g. the command sent")
    approved_by: str | None = None
    applied_at: datetime


class WorkflowProposalRefused(_WorkflowEvent):
    SUBJECT = subjects.WORKFLOW_PROPOSAL_REFUSED

    step: str
    proposal_id: str
    agent: str
    action: str
    target: str
    reason: str
    refused_at: datetime


class PostIncidentReviewRecorded(_WorkflowEvent):
    """The review record of a major incident: timeline, decisions, SLA outcome, cost."""

    SUBJECT = subjects.WORKFLOW_REVIEW_RECORDED

    step: str
    review: dict[str, JsonValue]
    recorded_at: datetime


# -- commands -------------------------------------------------------------------------------

class _Decision(Command):
    workflow_id: str = Field(min_length=1, max_length=128)
    step: str = Field(min_length=1, max_length=64)
    actor: Actor = ""
    note: str | None = Field(default=None, max_length=4096)


class ApproveStep(_Decision):
    """Grant a waiting approval step (checked against ``workflow.approve``)."""

    SUBJECT = subjects.WORKFLOW_CMD_APPROVE


class RejectStep(_Decision):
    """Refuse a waiting approval step (checked against ``workflow.reject``)."""

    SUBJECT = subjects.WORKFLOW_CMD_REJECT


# -- queries ---------------------------------------------------------------------------------

class GetWorkflow(Query):
    """One instance: by ``workflow_id``, or the ``workflow`` instance of an incident."""

    SUBJECT = subjects.WORKFLOW_QUERY_GET

    actor: Actor = ""  # set by the answering service to the proven principal

    incident_id: str | None = None
    workflow_id: str | None = None
    workflow: str = "incident-response"


class ListWorkflowDefinitions(Query):
    SUBJECT = subjects.WORKFLOW_QUERY_DEFINITIONS

    actor: Actor = ""  # set by the answering service to the proven principal


class ListWorkflowInstances(Query):
    SUBJECT = subjects.WORKFLOW_QUERY_INSTANCES

    actor: Actor = ""  # set by the answering service to the proven principal

    workflow: str | None = None
    state: WorkflowState | None = None
    incident_id: str | None = None
    limit: int = Field(default=100, ge=1, le=1000)


class WorkflowStepView(View):
    step: str
    state: StepState
    kind: str = ""
    attempt: int = 0
    started_at: datetime | None = None
    completed_at: datetime | None = None
    result: dict[str, JsonValue] = Field(default_factory=dict)
    error: str | None = None


class WorkflowView(View):
    workflow_id: str
    workflow: str
    version: int
    incident_id: str | None = None
    incident_ids: list[str] = Field(default_factory=list)
    state: WorkflowState
    started_at: datetime
    completed_at: datetime | None = None
    outcome: str | None = None
    steps: list[WorkflowStepView]


class WorkflowInstanceList(View):
    items: list[WorkflowView]


class WorkflowStepDefinitionView(View):
    id: str
    kind: str
    depends_on: list[str] = Field(default_factory=list)
    when: str | None = None


class WorkflowDefinitionView(View):
    name: str
    version: int
    description: str
    source: str = Field(description="built-in, or the file it was loaded from")
    triggers: list[str]
    max_concurrent: int | None = None
    steps: list[WorkflowStepDefinitionView]
    versions: list[int] = Field(default_factory=list, description="Every version loaded")


class WorkflowDefinitionList(View):
    items: list[WorkflowDefinitionView]
