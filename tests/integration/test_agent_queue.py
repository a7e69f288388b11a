"""The agents' request queue, served inline (the chain asks no provider) and queued, on a
real nats-server and store: one decision per request either way, a failed decision
tried again after a back-off, and given up after five attempts."""

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from reasonops_agent_triage.app import TriageSettings
from reasonops_agent_triage.handlers import prompt_input
from reasonops_contracts import Envelope, durables, new_id
from reasonops_contracts.agents import AgentDecisionRecorded, TriageOutput, TriageRequested
from reasonops_llm import Decided
from reasonops_llm.queue import AgentQueue, metadata
from reasonops_llm.queue_store import pending
from reasonops_llm.repeats import Repeats, question_of
from reasonops_runtime import EventRouter, Service, Transaction
from tests.integration.test_triage_agent import decisions, requested
from tests.support import wait_for

pytestmark = pytest.mark.nats


class Agent:
    """An agent whose ``decide`` notes whether the request waited in the store (a
    pending row, claimed by the queue's worker) and fails the first time for the ids in
    ``failing``."""

    def __init__(self, failing: set[str]) -> None:
        self.failing = failing
        self.waited: dict[str, list[bool]] = {}
        self.queue: AgentQueue | None = None
        self.service: Service | None = None

    def build(self, settings: TriageSettings, *, inline: bool) -> Service:
        self.service = service = Service("agent-triage", settings, metadata=(metadata,))
        self.queue = AgentQueue(service, source="agent-triage", decide=self.decide,
                                poll_seconds=0.1, retry_seconds=0.1,
                                inline=(lambda: True) if inline else None)
        router = EventRouter()
        router.on_many(TriageRequested)(self.on_requested)
        service.consume(durables.AGENT_TRIAGE, router)
        return service

    async def on_requested(self, tx: Transaction,
                           batch: list[tuple[Envelope, TriageRequested]]) -> None:
        assert self.queue is not None
        await self.queue.enqueue_many(tx, [(envelope, r.request_id, "triage",
                                            r.model_dump(mode="json")) for envelope, r in batch])

    async def decide(self, kind: str, payload: dict[str, Any], cause: Envelope) -> Decided:
        request = TriageRequested.model_validate(payload)
        assert self.service is not None
        waiting = await self.service.store.rows(
            select(pending.c.lease_owner).where(pending.c.request_id == request.request_id))
        self.waited.setdefault(request.request_id, []).append(bool(waiting))
        if request.request_id == "REQ-BROKEN":
            raise RuntimeError("a bug in every decision of this request")
        if request.request_id in self.failing:
            self.failing.discard(request.request_id)
            raise RuntimeError("a bug in this decision")
        output = TriageOutput(category="storage", assignment_group="billing",
                              suggested_impact=3, suggested_urgency=3, suggested_priority=3,
                              confidence=0.5, reasons=["disk"], summary="Disk fills up.")
        return Decided(AgentDecisionRecorded(
            decision_id=f"DEC-{request.request_id}", request_id=request.request_id,
            workflow_id=request.workflow_id, agent="triage", incident_id=request.incident_id,
            provider="rules", model="rules", prompt_version="test", latency_ms=0.0,
            output=output,
            summary="Triage: storage", decided_at=cause.time))


@pytest.mark.parametrize("inline", [True, False])
async def test_each_request_gets_one_decision_inline_or_queued(nc, start_service, inline):
    agent = Agent(failing={"REQ-FAILS"})
    await start_service(lambda s: agent.build(s, inline=inline), TriageSettings)
    collecting = asyncio.create_task(decisions(nc, 3))
    await asyncio.sleep(0.1)
    js = nc.jetstream()
    for request_id in ("REQ-A", "REQ-FAILS", "REQ-A", "REQ-B", "REQ-BROKEN"):  # A re-sent
        envelope = requested(request_id)
        await js.publish(TriageRequested.SUBJECT, envelope.to_bytes(),
                         headers=envelope.headers())

    seen = [e.decode(AgentDecisionRecorded).request_id for e in await collecting]
    assert sorted(seen) == ["REQ-A", "REQ-B", "REQ-FAILS"]
    assert agent.queue is not None
    # A failed decision is tried again after a back-off (0.1 s doubling here), not after
    # its lease (300 s); one that fails every time is given up after five attempts and
    # stays in the store, undecided.
    await wait_for(lambda: agent.waited.get("REQ-BROKEN", []),
                   check=lambda tries: tries.count(True) == 5, timeout=15)
    await asyncio.sleep(1.0)  # no sixth attempt
    assert agent.waited["REQ-BROKEN"] == [False] * inline + [True] * 5
    assert await agent.queue.waiting() == (0, 1)  # given up, not waiting
    # Inline, a request is decided in the consumer's transaction and never waits in the
    # store; one whose decision failed there is queued and decided by the worker, as
    # every request is when not inline.
    assert agent.waited["REQ-FAILS"] == [not inline, True]
    assert agent.waited["REQ-A"] == agent.waited["REQ-B"] == [not inline]


class Repeating(Agent):
    """An agent answering a question once (``reasonops_llm.repeats``), whose consumer's
    transaction fails after the first request was decided in it."""

    def __init__(self) -> None:
        super().__init__(failing=set())
        self.repeats = Repeats(timedelta(hours=1))
        self.rolled_back = False

    async def on_requested(self, tx: Transaction,
                           batch: list[tuple[Envelope, TriageRequested]]) -> None:
        await super().on_requested(tx, batch)
        if not self.rolled_back:
            self.rolled_back = True
            raise ConnectionError("the database went away before the commit")

    async def decide(self, kind: str, payload: dict[str, Any], cause: Envelope) -> Decided:
        request = TriageRequested.model_validate(payload)
        question = question_of(request.incident_id, prompt_input(request), "test")
        asked = await super().decide(kind, payload, cause)

        async def ask() -> AgentDecisionRecorded:
            return asked.decision.model_copy(update={"decision_id": new_id()})

        decision = await self.repeats.once(question, ask, request_id=request.request_id,
                                           workflow_id=request.workflow_id, now=cause.time)
        return Decided(decision, then=lambda: self.repeats.remember(question, decision))


async def test_a_decision_rolled_back_is_never_named_by_a_repeat(nc, start_service):
    """Decided in the consumer's transaction, which then failed: the request comes back
    and is decided anew; a later request with the same question repeats the decision
    that was recorded, not the one rolled back."""
    agent = Repeating()
    await start_service(lambda s: agent.build(s, inline=True), TriageSettings)
    js = nc.jetstream()
    found = {}
    for request_id in ("REQ-LOST", "REQ-AGAIN"):  # the second once the first is decided
        collecting = asyncio.create_task(decisions(nc, 1, timeout=20))
        await asyncio.sleep(0.1)
        envelope = requested(request_id)
        await js.publish(TriageRequested.SUBJECT, envelope.to_bytes(),
                         headers=envelope.headers())
        [decision] = [e.decode(AgentDecisionRecorded) for e in await collecting]
        found[decision.request_id] = decision
    assert agent.rolled_back
    assert sorted(found) == ["REQ-AGAIN", "REQ-LOST"]
    assert found["REQ-LOST"].same_as is None
    assert found["REQ-AGAIN"].same_as == found["REQ-LOST"].decision_id
