"""Workflow queries: instances, the definitions loaded, post-incident reviews."""

from __future__ import annotations

from reasonops_contracts.reviews import GetPostIncidentReview, PostIncidentReviewView
from reasonops_contracts.workflows import (
    GetWorkflow,
    ListWorkflowDefinitions,
    ListWorkflowInstances,
    WorkflowDefinitionList,
    WorkflowInstanceList,
    WorkflowView,
)
from reasonops_runtime import DomainError, NotFound, Service
from reasonops_runtime.enforcement import Enforcer
from reasonops_runtime.policy import Policy

from . import effect_store, store
from .catalog import Catalog
from .views import definition_views, workflow_view


class WorkflowQueries:
    """Workflow instances, each read by whoever's roles cover its team and service, and
    the definitions loaded, by whoever holds a role."""

    def __init__(self, service: Service, catalog: Catalog, policy: Policy) -> None:
        self.service = service
        self.catalog = catalog
        self.gate = Enforcer(policy, "orchestrator")

    async def get(self, query: GetWorkflow) -> WorkflowView:
        async with self.service.store.read() as session:
            if query.workflow_id:
                instance = await store.get(session, query.workflow_id)
            elif query.incident_id:
                found = await store.find(session, workflow=query.workflow,
                                         incident_id=query.incident_id, limit=1)
                instance = found[0] if found else None
            else:
                raise DomainError("give incident_id or workflow_id", "incident_id")
        if instance is None:
            what = query.workflow_id or f"{query.workflow} workflow for {query.incident_id}"
            raise NotFound(f"no {what}", "workflow_id" if query.workflow_id else "incident_id")
        team, owner = instance.scope()
        self.gate.readable(query.actor, at=self.service.clock.now(),
                           reading=instance.instance_id, team=team, service=owner,
                           incident_id=instance.incident_id)
        return workflow_view(instance)

    async def instances(self, query: ListWorkflowInstances) -> WorkflowInstanceList:
        visible = self.gate.visibility(query.actor, at=self.service.clock.now(),
                                       reading="workflow instances")
        async with self.service.store.read() as session:
            found = await store.find(session, workflow=query.workflow, state=query.state,
                                     incident_id=query.incident_id, limit=query.limit)
        return WorkflowInstanceList(items=[workflow_view(i) for i in found
                                           if visible.covers(*i.scope())])

    async def review(self, query: GetPostIncidentReview) -> PostIncidentReviewView:
        """A review is read as its instance is: by whoever's roles cover the incident's
        team or service (what it holds, the timeline, SLA and cost, each of those may
        read on its own)."""
        if not (query.workflow_id or query.incident_id):
            raise DomainError("give incident_id or workflow_id", "incident_id")
        # One who may read nothing is refused before anything is said of the incident.
        self.gate.visibility(query.actor, at=self.service.clock.now(),
                             reading="post-incident reviews")
        async with self.service.store.read() as session:
            row = await effect_store.review_of(session, workflow_id=query.workflow_id,
                                               incident_id=query.incident_id)
            instance = await store.get(session, row.workflow_id) if row is not None else None
        if row is None:
            what = query.workflow_id or query.incident_id
            raise NotFound(f"no post-incident review of {what} (one is recorded when a "
                           "major incident resolves)",
                           "workflow_id" if query.workflow_id else "incident_id")
        # An instance gone (kept less long than its review) leaves no scope: only a
        # reader of everything reads its review.
        team, owner = instance.scope() if instance is not None else (None, None)
        self.gate.readable(query.actor, at=self.service.clock.now(),
                           reading=f"post-incident review {row.workflow_id}", team=team,
                           service=owner, incident_id=row.incident_id)
        return PostIncidentReviewView.model_validate(
            {**row.review, "workflow_id": row.workflow_id, "incident_id": row.incident_id,
             "recorded_at": row.recorded_at})

    async def definitions(self, query: ListWorkflowDefinitions) -> WorkflowDefinitionList:
        self.gate.visibility(query.actor, at=self.service.clock.now(),
                             reading="workflow definitions")
        return WorkflowDefinitionList(items=definition_views(self.catalog))

    def register(self) -> None:
        self.service.respond(GetWorkflow, self.get)
        self.service.respond(ListWorkflowInstances, self.instances)
        self.service.respond(ListWorkflowDefinitions, self.definitions)
        self.service.respond(GetPostIncidentReview, self.review)


def register_queries(service: Service, catalog: Catalog, policy: Policy) -> None:
    WorkflowQueries(service, catalog, policy).register()
