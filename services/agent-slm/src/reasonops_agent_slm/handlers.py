"""SLA clocks and incidents in; a scan forecasts each running clock; a forecast breach is
queued for a decision, whose proposals go to the orchestrator for approval."""

from __future__ import annotations

import bisect
import logging
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

from reasonops_contracts import Envelope, new_id
from reasonops_contracts.agents import AgentProposalRecorded
from reasonops_contracts.forecasts import SlmOutput
from reasonops_contracts.incidents import (
    IncidentAcknowledged,
    IncidentAssigned,
    IncidentOpened,
    IncidentReopened,
    IncidentResolved,
)
from reasonops_contracts.slm import SlaBreached, SlaMet, SlaPaused, SlaResumed, SlaStarted
from reasonops_llm import Decided, PromptTemplate, Router, decision_from
from reasonops_runtime import Clock, EventRouter, Transaction

from . import store
from .domain import Watched, answer_time, forecast, output
from .paces import Paces

log = logging.getLogger(__name__)

Transactions = Callable[[], AbstractAsyncContextManager[Transaction]]


class Requests(Protocol):
    """Where a forecast breach is queued for a decision (the agent kit's queue)."""

    async def enqueue(self, tx: Transaction, cause: Envelope, request_id: str, kind: str,
                      payload: dict[str, Any]) -> bool: ...


class SlmAgent:
    def __init__(self, router: Router, template: PromptTemplate, clock: Clock,
                 transaction: Transactions, *, scan_limit: int,
                 overflow: Mapping[str, str] | None = None) -> None:
        self.overflow = dict(overflow or {})
        self.router = router
        self.template = template
        self.clock = clock
        self.transaction = transaction
        self.scan_limit = scan_limit
        self.queue: Requests | None = None
        self._paces = Paces()

    def clocks(self) -> EventRouter:
        router = EventRouter()
        router.on_many(SlaStarted)(self.on_started)
        router.on(SlaPaused)(self.on_paused)
        router.on(SlaResumed)(self.on_resumed)
        router.on_many(SlaMet)(self.on_met)
        router.on_many(SlaBreached)(self.on_breached)
        return router

    def incidents(self) -> EventRouter:
        router = EventRouter()
        for model in (IncidentOpened, IncidentAssigned, IncidentAcknowledged,
                      IncidentResolved, IncidentReopened):
            router.on_many(model)(self.on_incidents)  # a run of any of them at once
        return router

    async def on_started(self, tx: Transaction,
                         batch: list[tuple[Envelope, SlaStarted]]) -> None:
        """Watch the new clocks, and forecast them at once: an incident opened into a
        long queue or outside working hours may be late from its first minute."""
        await store.add_clocks(tx.session, [(e, env.to_bytes().decode()) for env, e in batch])
        await self._forecast(tx, await store.watched(
            tx.session, self.scan_limit, [e.clock_id for _, e in batch]))

    async def on_paused(self, tx: Transaction, envelope: Envelope, event: SlaPaused) -> None:
        await store.pause(tx.session, event.clock_id, True)

    async def on_resumed(self, tx: Transaction, envelope: Envelope, event: SlaResumed) -> None:
        await store.pause(tx.session, event.clock_id, False, event.deadline)

    async def on_met(self, tx: Transaction, batch: list[tuple[Envelope, SlaMet]]) -> None:
        self._paces.met(await store.stop(tx.session, [(e.clock_id, e.elapsed_seconds)
                                                      for _, e in batch]))

    async def on_breached(self, tx: Transaction,
                          batch: list[tuple[Envelope, SlaBreached]]) -> None:
        await store.stop(tx.session, [(e.clock_id, None) for _, e in batch])

    async def on_incidents(self, tx: Transaction,
                           batch: list[tuple[Envelope, store.IncidentEvent]]) -> None:
        self._paces.answered(await store.incident_events(tx.session, [e for _, e in batch]))

    async def scan(self) -> int:
        """Forecast every running clock; queue a decision for each newly forecast to
        breach. Returns how many were queued."""
        async with self.transaction() as tx:
            queued = await self._forecast(tx, await store.watched(tx.session,
                                                                   self.scan_limit))
        if queued:
            log.warning("SLA breaches forecast", extra={"clocks": queued})
        return queued

    async def _forecast(self, tx: Transaction, watched: list[Watched]) -> int:
        """Forecast ``watched``; queue a decision for each forecast to breach. A group's
        pace and queue are read once, whatever the number of its clocks."""
        queued = 0
        now = self.clock.now()
        queues: dict[tuple[str, str], list[datetime]] = {}
        for clock in watched:
            pace = await self._paces.pace(tx.session, clock.group, clock.kind, now)
            answer = answer_time(await self._paces.pace(tx.session, clock.group, "response",
                                                        now))
            ahead = 0
            if clock.group is not None and clock.opened_at is not None:
                if (clock.group, clock.kind) not in queues:
                    queues[clock.group, clock.kind] = await store.waiting(
                        tx.session, clock.group, clock.kind)
                ahead = bisect.bisect_left(queues[clock.group, clock.kind], clock.opened_at)
            found = forecast(clock, pace, ahead, answer, now)
            if not found.breach:
                continue
            cause = await store.cause_of(tx.session, clock.clock_id)
            assert self.queue is not None
            assert cause is not None
            await store.forecast_made(tx.session, clock.clock_id)
            result = output(clock, found, self.overflow)
            queued += await self.queue.enqueue(
                tx, Envelope.from_bytes(cause.encode()), f"slm:{clock.clock_id}",
                "forecast", {"request_id": f"slm:{clock.clock_id}",
                             "incident_id": clock.incident_id,
                             "forecast": result.model_dump(mode="json")})
        return queued

    async def decide(self, kind: str, payload: dict[str, Any], cause: Envelope) -> Decided:
        rules = SlmOutput.model_validate(payload["forecast"])
        prompt = self.template.render(payload["forecast"])
        answer = await self.router.decide(prompt, SlmOutput, lambda: rules)
        # The forecast's facts and the actions are the rules'; a model may word them.
        facts = rules.model_dump(exclude={"reasons", "summary"})
        answer = replace(answer, output=answer.output.model_copy(update=facts))
        result = answer.output
        assert isinstance(result, SlmOutput)
        now = self.clock.now()
        decision = decision_from(answer, prompt, agent="slm", request_id=payload["request_id"],
                                 incident_id=result.incident_id,
                                 summary=f"Service level ({answer.provider}): {result.summary}",
                                 decided_at=now)
        decided = Decided(decision)
        parameters = {"clock_id": result.clock_id, "kind": result.kind,
                      "agreement": result.agreement, "deadline": result.deadline.isoformat(),
                      "minutes_left": str(result.minutes_left),
                      "assignment_group": result.assignment_group or "",
                      "party": result.party or "", "priority": str(result.priority),
                      "to_group": self.overflow.get(result.assignment_group or "", "")}
        for action in result.recommended_actions:
            decided.events.append(AgentProposalRecorded(
                proposal_id=new_id(), decision_id=decision.decision_id, agent="slm",
                incident_id=result.incident_id, action=action, target=result.incident_id,
                parameters=parameters, reason=result.summary, proposed_at=now))
        return decided


