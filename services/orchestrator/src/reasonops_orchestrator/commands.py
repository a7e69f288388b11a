"""Approve and reject commands (role-checked) and the workflow queries."""

from __future__ import annotations

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
from reasonops_runtime.enforcement import Enforcer
from reasonops_runtime.policy import Policy, principal_of

from . import progress, store
from .catalog import Catalog
from .shell import Shell
from .views import definition_views, workflow_view


class WorkflowCommands:
    """Approve or reject a waiting approval step, as the role policy allows on the
    instance's team and service."""

    def __init__(self, service: Service, shell: Shell, policy: Policy) -> None:
        self.service = service
        self.shell = shell
        self.policy = policy
        self.gate = Enforcer(policy, "orchestrator")

    async def decide(self, command: ApproveStep | RejectStep, approved: bool) -> WorkflowView:
        action = "workflow.approve" if approved else "workflow.reject"
        principal = principal_of(command.actor)
        async with self.service.store.read() as session:
            instance = await store.get(session, command.workflow_id)
        if instance is None:
            raise NotFound(f"no workflow instance {command.workflow_id}", "workflow_id")
        team, owner = instance.scope()
        # A refusal raises Forbidden with its AccessDenied record; the kit keeps the
        # record in a transaction of its own.
        self.gate.require(principal, action, at=self.service.clock.now(), team=team, service=owner,
                          incident_id=instance.incident_id, target=instance.instance_id,
                          correlation_id=instance.correlation_id)
        async with self.service.transaction() as tx:
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
                                       at=self.service.clock.now())
            await self.shell.apply(tx, instance, effects, None)
        return workflow_view(instance)

    async def approve(self, command: ApproveStep) -> WorkflowView:
        return await self.decide(command, True)

    async def reject(self, command: RejectStep) -> WorkflowView:
        return await self.decide(command, False)

    def register(self) -> None:
        self.service.respond(ApproveStep, self.approve)
        self.service.respond(RejectStep, self.reject)


def register_commands(service: Service, shell: Shell, policy: Policy) -> None:
    WorkflowCommands(service, shell, policy).register()


class WorkflowQueries:
    """Workflow instances and the definitions loaded."""

    def __init__(self, service: Service, catalog: Catalog) -> None:
        self.service = service
        self.catalog = catalog

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
        return workflow_view(instance)

    async def instances(self, query: ListWorkflowInstances) -> WorkflowInstanceList:
        async with self.service.store.read() as session:
            found = await store.find(session, workflow=query.workflow, state=query.state,
                                     incident_id=query.incident_id, limit=query.limit)
        return WorkflowInstanceList(items=[workflow_view(i) for i in found])

    async def definitions(self, query: ListWorkflowDefinitions) -> WorkflowDefinitionList:
        return WorkflowDefinitionList(items=definition_views(self.catalog))

    def register(self) -> None:
        self.service.respond(GetWorkflow, self.get)
        self.service.respond(ListWorkflowInstances, self.instances)
        self.service.respond(ListWorkflowDefinitions, self.definitions)


def register_queries(service: Service, catalog: Catalog) -> None:
    WorkflowQueries(service, catalog).register()
