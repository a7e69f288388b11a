"""The triage agent's one query: run it on an event someone describes (the API's
``POST /api/agents/run``), answered with the decision it would make, recorded nowhere."""

from __future__ import annotations

from reasonops_contracts.agents import AgentRun, RunTriage, TriageRequested
from reasonops_contracts.ids import new_id
from reasonops_runtime import Clock
from reasonops_runtime.enforcement import Enforcer

from .handlers import TriageAgent


class TriageQueries:
    def __init__(self, agent: TriageAgent, enforcer: Enforcer, clock: Clock) -> None:
        self.agent = agent
        self.enforcer = enforcer
        self.clock = clock

    async def run(self, query: RunTriage) -> AgentRun:
        self.enforcer.require(query.actor, "agent.run", at=self.clock.now(),
                              incident_id=query.incident_id or None, target="triage")
        request = TriageRequested(
            request_id=f"RUN-{new_id()}", workflow_id="", incident_id=query.incident_id,
            title=query.title, service=query.service, resource=query.resource,
            severity=query.severity, priority=query.priority, labels=query.labels)
        return AgentRun(decision=await self.agent.ask(request))
