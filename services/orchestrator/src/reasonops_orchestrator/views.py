"""Workflow -> the contract's read model."""

from __future__ import annotations

from reasonops_contracts.workflows import WorkflowStepView, WorkflowView

from .domain import Step, Workflow


def step_view(step: Step) -> WorkflowStepView:
    return WorkflowStepView(step=step.name, state=step.state.value, started_at=step.started_at,
                            completed_at=step.completed_at, result=step.result)


def workflow_view(workflow: Workflow) -> WorkflowView:
    return WorkflowView(
        workflow_id=workflow.workflow_id,
        workflow=workflow.workflow,
        version=workflow.version,
        incident_id=workflow.incident_id,
        state=workflow.state.value,
        started_at=workflow.started_at,
        completed_at=workflow.completed_at,
        steps=[step_view(step) for step in workflow.steps],
    )
