"""Triage requests in, recorded decisions out. A provider is asked outside the
consumer's transaction; while the chain is the rules alone, a request is decided in it
(see ``reasonops_llm.queue``)."""

from __future__ import annotations

import logging
from typing import Any

from reasonops_contracts import Envelope, durables
from reasonops_contracts.agents import AgentDecisionRecorded, TriageOutput, TriageRequested
from reasonops_llm import Decided, PromptTemplate, Router, decision_from
from reasonops_llm.queue import AgentQueue
from reasonops_llm.repeats import Repeats, question_of
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
    def __init__(self, router: Router, template: PromptTemplate, clock: Clock,
                 repeats: Repeats) -> None:
        self.router = router
        self.template = template
        self.clock = clock
        self.repeats = repeats
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
        """The decision for one request; a P1's second workflow asking the same about the
        incident gets the first one's answer again (``reasonops_llm.repeats``)."""
        request = TriageRequested.model_validate(payload)
        question = question_of(request.incident_id, prompt_input(request),
                               self.template.version)
        decision = await self.repeats.once(question, lambda: self.ask(request),
                                           request_id=request.request_id,
                                           workflow_id=request.workflow_id, now=self.clock.now())
        return Decided(decision, then=lambda: self.repeats.remember(question, decision))

    async def ask(self, request: TriageRequested) -> AgentDecisionRecorded:
        """The chain's decision, whatever was asked before (``reasonops agents run``)."""
        prompt = self.template.render(prompt_input(request))
        answer = await self.router.decide(prompt, TriageOutput, lambda: triage(request))
        output = answer.output
        by = answer.provider if not answer.fallback else \
            f"{answer.provider} after {', '.join(a.provider for a in answer.attempts[:-1])} failed"
        summary = (f"Triage ({by}): {output.category}, P{output.suggested_priority}, "
                   f"to {output.assignment_group}")
        return decision_from(answer, prompt, agent="triage", request_id=request.request_id,
                             incident_id=request.incident_id,
                             workflow_id=request.workflow_id, summary=summary,
                             decided_at=self.clock.now())
