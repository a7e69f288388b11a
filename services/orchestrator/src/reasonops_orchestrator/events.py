"""The workflow events an instance's progress is recorded as (contract models)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from reasonops_contracts.policy import AccessDenied
from reasonops_contracts.workflows import (
    PostIncidentReviewRecorded,
    WorkflowApprovalDecided,
    WorkflowApprovalRequested,
    WorkflowCompensated,
    WorkflowCompleted,
    WorkflowFailed,
    WorkflowProposalApplied,
    WorkflowProposalRefused,
    WorkflowQueued,
    WorkflowStarted,
    WorkflowStepCompleted,
    WorkflowStepFailed,
    WorkflowStepRetried,
    WorkflowStepSkipped,
    WorkflowStepStarted,
)

if TYPE_CHECKING:
    from .definitions import StepDef
    from .domain import Instance, StepRun


def about(instance: Instance) -> dict[str, Any]:
    """The fields every workflow event carries."""
    return {"workflow_id": instance.instance_id, "workflow": instance.workflow,
            "incident_id": instance.incident_id, "incident_ids": instance.incident_ids}


def started(instance: Instance, at: datetime) -> WorkflowStarted:
    return WorkflowStarted(**about(instance), version=instance.version, started_at=at,
                           trigger=str(instance.trigger.get("type", "")))


def restarted(instance: Instance, event_type: str, at: datetime) -> WorkflowStarted:
    """A completed instance running again: a new start, by the event that restarted it."""
    return WorkflowStarted(**about(instance), version=instance.version, started_at=at,
                           trigger=event_type)


def queued(instance: Instance, running: int, at: datetime) -> WorkflowQueued:
    return WorkflowQueued(**about(instance), version=instance.version, queued_at=at,
                          running=running)


def step_started(instance: Instance, spec: StepDef, attempt: int,
                 at: datetime) -> WorkflowStepStarted:
    return WorkflowStepStarted(**about(instance), step=spec.id, kind=spec.kind, attempt=attempt,
                               started_at=at)


def step_completed(instance: Instance, run: StepRun, at: datetime) -> WorkflowStepCompleted:
    return WorkflowStepCompleted(**about(instance), step=run.id, completed_at=at,
                                 result=run.output, attempt=run.attempt)


def skipped(instance: Instance, step: str, reason: str, at: datetime) -> WorkflowStepSkipped:
    return WorkflowStepSkipped(**about(instance), step=step, reason=reason, skipped_at=at)


def retried(instance: Instance, step: str, attempt: int, error: str,
            retry_at: datetime) -> WorkflowStepRetried:
    return WorkflowStepRetried(**about(instance), step=step, attempt=attempt, error=error,
                               retry_at=retry_at)


def step_failed(instance: Instance, run: StepRun, at: datetime) -> WorkflowStepFailed:
    return WorkflowStepFailed(**about(instance), step=run.id, attempt=run.attempt,
                              error=run.error or "", failed_at=at)


def completed(instance: Instance, outcome: str, at: datetime) -> WorkflowCompleted:
    return WorkflowCompleted(**about(instance), completed_at=at, outcome=outcome)


def compensated(instance: Instance, comps: list[str], at: datetime) -> WorkflowCompensated:
    return WorkflowCompensated(**about(instance), step=str(instance.failed_step),
                               compensations={c: instance.steps[c].state for c in comps},
                               compensated_at=at)


def failed(instance: Instance, at: datetime) -> WorkflowFailed:
    return WorkflowFailed(**about(instance), step=str(instance.failed_step), failed_at=at,
                          error=instance.error or "")


def approval_requested(instance: Instance, spec: StepDef, at: datetime,
                       summary: str) -> WorkflowApprovalRequested:
    expires = at + timedelta(seconds=spec.timeout) if spec.timeout else None
    return WorkflowApprovalRequested(**about(instance), step=spec.id, requested_at=at,
                                     expires_at=expires, default=spec.default,
                                     summary=summary)


def approval_decided(instance: Instance, step: str, approved: bool, actor: str,
                     note: str | None, at: datetime) -> WorkflowApprovalDecided:
    return WorkflowApprovalDecided(**about(instance), step=step, approved=approved, actor=actor,
                                   note=note, decided_at=at)


def proposal_denied(instance: Instance, principal: str, action: str, roles: list[str],
                    reason: str, team: str | None, service: str | None, target: str,
                    at: datetime) -> AccessDenied:
    """An agent's proposal the role policy does not allow, on record."""
    return AccessDenied(principal=principal, action=action, roles=roles, reason=reason,
                        incident_id=instance.incident_id, team=team, service=service,
                        target=target, service_name="orchestrator", denied_at=at)


def proposal_refused(instance: Instance, step: str, proposal: dict[str, Any], reason: str,
                     at: datetime) -> WorkflowProposalRefused:
    return WorkflowProposalRefused(
        **about(instance), step=step, proposal_id=proposal["proposal_id"],
        agent=proposal["agent"], action=proposal["action"], target=proposal["target"],
        reason=reason, refused_at=at)


def proposal_applied(instance: Instance, step: str, proposal: dict[str, Any], how: str,
                     approved_by: str | None, at: datetime) -> WorkflowProposalApplied:
    return WorkflowProposalApplied(
        **about(instance), step=step, proposal_id=proposal["proposal_id"],
        agent=proposal["agent"], action=proposal["action"], target=proposal["target"],
        how=how, approved_by=approved_by, applied_at=at)


def review_recorded(instance: Instance, step: str, review: dict[str, Any], at: datetime
                    ) -> PostIncidentReviewRecorded:
    return PostIncidentReviewRecorded(**about(instance), step=step, review=review,
                                      recorded_at=at)
