"""Instances and definitions -> the contract's read models."""

from __future__ import annotations

from reasonops_contracts.workflows import (
    WorkflowDefinitionView,
    WorkflowStepDefinitionView,
    WorkflowStepView,
    WorkflowView,
)

from .catalog import Catalog
from .domain import Instance


def workflow_view(instance: Instance) -> WorkflowView:
    kinds = {s.id: s.kind for s in instance.definition.steps}
    return WorkflowView(
        workflow_id=instance.instance_id, workflow=instance.workflow, version=instance.version,
        incident_id=instance.incident_id, incident_ids=instance.incident_ids,
        state=instance.state, started_at=instance.started_at,  # type: ignore[arg-type]
        completed_at=instance.completed_at, outcome=instance.outcome,
        steps=[WorkflowStepView(step=r.id, state=r.state,  # type: ignore[arg-type]
                                kind=kinds.get(r.id, ""), attempt=r.attempt,
                                started_at=r.started_at, completed_at=r.completed_at,
                                result=r.output, error=r.error)
               for r in instance.steps.values()])


def definition_views(catalog: Catalog) -> list[WorkflowDefinitionView]:
    views = []
    for d in catalog.newest():
        views.append(WorkflowDefinitionView(
            name=d.name, version=d.version, description=d.description,
            source=catalog.sources[(d.name, d.version)],
            triggers=[t.event for t in d.trigger], max_concurrent=d.max_concurrent,
            steps=[WorkflowStepDefinitionView(id=s.id, kind=s.kind, depends_on=s.depends_on,
                                              when=s.when) for s in d.steps],
            versions=sorted(catalog.versions[d.name])))
    return views
