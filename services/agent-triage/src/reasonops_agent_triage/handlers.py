"""Triage requests in, recorded decisions out. The provider is asked outside the
consumer's transaction (see ``reasonops_llm.queue``)."""

from __future__ import annotations

import logging
from typing import Any

from reasonops_contracts import Envelope, durables
from reasonops_contracts.agents import TriageOutput, TriageRequested
from reasonops_llm import Decided, PromptTemplate, Router, decision_from
from reasonops_llm.queue import AgentQueue
from reasonops_runtime import Clock, EventRouter, Transaction

from .domain import triage

SOURCE = "agent-triage"
CONSUMER = durables.AGENT_TRIAGE
KIND = "triage"

log = logging.getLogger(__name__)


def prompt_input(request: TriageRequested) -> dict[str, Any]:
    """What the model sees: the incident, without our internal ids."""
    return request.model_dump(mode="json", exclude={"request_id", "workflow_id"})


class TriageAgent:
    def __init__(self, router: Router, template: PromptTemplate, clock: Clock) -> None:
        self.router = router
        self.template = template
        self.clock = clock
        self.queue: AgentQueue | None = None

    def consumer(self) -> EventRouter:
        router = EventRouter()
        router.on_many(TriageRequested)(self.on_requested)
        return router

    async def on_requested(self, tx: Transaction,
                           batch: list[tuple[Envelope, TriageRequested]]) -> None:
        """Queue every request not seen before; one decision per request id, however
        often the request is delivered or re-sent."""
        assert self.queue is not None
        queued = await self.queue.enqueue_many(tx, [
            (envelope, r.request_id, KIND, r.model_dump(mode="json")) for envelope, r in batch])
        if len(queued) < len(batch):
            log.info("triage requests already known", extra={"count": len(batch) - len(queued)})

    async def decide(self, kind: str, payload: dict[str, Any], cause: Envelope) -> Decided:
        request = TriageRequested.model_validate(payload)
        prompt = self.template.render(prompt_input(request))
        answer = await self.router.decide(prompt, TriageOutput, lambda: triage(request))
        output = answer.output
        by = answer.provider if not answer.fallback else \
            f"{answer.provider} after {', '.join(a.provider for a in answer.attempts[:-1])} failed"
        summary = (f"Triage ({by}): {output.category}, P{output.suggested_priority}, "
                   f"to {output.assignment_group}")
        return Decided(decision_from(answer, prompt, agent="triage",
                                     request_id=request.request_id,
                                     incident_id=request.incident_id,
                                     workflow_id=request.workflow_id, summary=summary,
                                     decided_at=self.clock.now()))
