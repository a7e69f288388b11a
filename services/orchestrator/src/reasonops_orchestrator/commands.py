"""Approve and reject commands (role-checked) and the workflow queries."""

from __future__ import annotations

from reasonops_contracts.policy import AccessDenied
from reasonops_contracts.workflows import (
    ApproveStep,
    GetWorkflow,
    ListWorkflowDefinitions,
    ListWorkflowInstances,
    RejectStep,
    WorkflowDefinitionList,
    WorkflowInstanceList,
    WorkflowView,
)
from reasonops_runtime import DomainError, IllegalTransition, NotFound, Service
from reasonops_runtime.policy import Forbidden, Policy

from . import progress, store
from .catalog import Catalog
from .shell import Shell, envelope
from .views import definition_views, workflow_view


def principal_of(actor: str) -> str:
    """``user:ann`` stays; a bare name is a user, except ``cli``, the local operator."""
    return actor if ":" in actor or actor == "cli" else f"user:{actor}"


def register_commands(service: Service, shell: Shell, policy: Policy) -> None:
    async def decide(command: ApproveStep | RejectStep, approved: bool) -> WorkflowView:
        action = "workflow.approve" if approved else "workflow.reject"
        principal = principal_of(command.actor)
        async with service.store.read() as session:
            instance = await store.get(session, command.workflow_id)
        if instance is None:
            raise NotFound(f"no workflow instance {command.workflow_id}", "workflow_id")
        verdict = policy.check(principal, action)
        if not verdict.allowed:
            denied = AccessDenied(principal=principal, action=action, roles=list(verdict.roles),
                                  reason=verdict.reason, incident_id=instance.incident_id,
                                  service_name="orchestrator", denied_at=service.clock.now())
            # Its own transaction: the record survives the refusal.
            async with service.transaction() as tx:
                tx.emit(envelope(instance, None, denied, service.clock.now()), denied.SUBJECT)
            raise Forbidden(f"{principal} may not {action}: {verdict.reason}", "actor")
        async with service.transaction() as tx:
            instance = await store.get(tx.session, command.workflow_id, lock=True)
            assert instance is not None
            run = instance.steps.get(command.step)
            if run is None or instance.definition.step(command.step).kind != "approval":
                raise DomainError(f"{command.workflow_id} has no approval step "
                                  f"{command.step!r}", "step")
            if run.state != "waiting":
                raise IllegalTransition(f"step {command.step} is {run.state}, not waiting "
                                        "for approval", "step")
            effects = progress.decided(instance, command.step, approved=approved,
                                       actor=principal, note=command.note,
                                       at=service.clock.now())
            await shell.apply(tx, instance, effects, None)
        return workflow_view(instance)

    async def approve(command: ApproveStep) -> WorkflowView:
        return await decide(command, True)

    async def reject(command: RejectStep) -> WorkflowView:
        return await decide(command, False)

    service.respond(ApproveStep, approve)
    service.respond(RejectStep, reject)


def register_queries(service: Service, catalog: Catalog) -> None:
    async def get(query: GetWorkflow) -> WorkflowView:
        async with service.store.read() as session:
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
        return workflow_view(instance)

    async def instances(query: ListWorkflowInstances) -> WorkflowInstanceList:
        async with service.store.read() as session:
            found = await store.find(session, workflow=query.workflow, state=query.state,
                                     incident_id=query.incident_id, limit=query.limit)
        return WorkflowInstanceList(items=[workflow_view(i) for i in found])

    async def definitions(query: ListWorkflowDefinitions) -> WorkflowDefinitionList:
        return WorkflowDefinitionList(items=definition_views(catalog))

    service.respond(GetWorkflow, get)
    service.respond(ListWorkflowInstances, instances)
    service.respond(ListWorkflowDefinitions, definitions)
