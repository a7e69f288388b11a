"""Approve and reject a waiting approval step, as the role policy allows."""

from __future__ import annotations

from reasonops_contracts.workflows import (
    ApproveStep,
    RejectStep,
    WorkflowView,
)
from reasonops_runtime import DomainError, IllegalTransition, NotFound, Service
from reasonops_runtime.enforcement import Enforcer
from reasonops_runtime.policy import Policy, principal_of

from . import progress, store
from .shell import Shell
from .views import workflow_view


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
            ws = self.shell.workset(tx)
            instance = await ws.fetch(command.workflow_id)
            assert instance is not None
            run = instance.steps.get(command.step)
            if run is None or instance.definition.step(command.step).kind != "approval":
                raise DomainError(f"{command.workflow_id} has no approval step "
                                  f"{command.step!r}", "step")
            if run.state != "waiting":
                raise IllegalTransition(f"step {command.step} is {run.state}, not waiting "
                                        "for approval", "step")
            if principal in run.output.get("approvals", []):
                raise IllegalTransition(f"{principal} approved step {command.step} already; "
                                        "its quorum needs someone else", "actor")
            effects = progress.decided(instance, command.step, approved=approved,
                                       actor=principal, note=command.note,
                                       at=self.service.clock.now())
            await self.shell.apply(ws, instance, effects, None)
            await ws.flush()
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
