"""An agent asked the same question about the same incident again answers it once.

A P1 incident starts two workflows that both ask triage about it (``incident-response``
and ``major-incident``, the second perhaps hours later, queued behind others). The
question is the same (the incident as the model sees it, the same prompt version and
chain), so asking the provider twice costs a second model call for nothing. A request
whose question was answered within ``window`` (a decision recorded, and remembered
then; or one being answered now, in this process) gets a decision of its own (its
request and workflow ids) that repeats the first one's output and names it in
``same_as``: no provider is asked, no tokens spent.

What is remembered lives in this process: two replicas that take the two requests each
ask once, and a restart forgets. A changed chain forgets everything (``clear``). An
answer is remembered once its decision is recorded, never before: two requests decided
one after the other before that (in one batch of the rules deciding inline, where it
costs nothing) are each answered; a model's requests of one round are asked at once and
share the answer in flight.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from reasonops_contracts import new_id
from reasonops_contracts.agents import AgentDecisionRecorded

__all__ = ["Repeats", "question_of"]

Key = tuple[str, str]


def question_of(incident_id: str, asked: dict[str, Any], prompt_version: str) -> Key:
    """What makes two requests the same question: the incident, what the model would be
    shown of it, and the prompt's version."""
    shown = json.dumps(asked, sort_keys=True, separators=(",", ":"), default=str)
    return incident_id, hashlib.sha256(f"{prompt_version}\n{shown}".encode()).hexdigest()


class Repeats:
    """Decisions by question, for ``window``; at most ``size`` remembered, each as its
    JSON (a quarter of the memory of the model: about 1 KB a triage decision)."""

    def __init__(self, window: timedelta, *, size: int = 10_000) -> None:
        self.window = window
        self.size = size
        self._answered: OrderedDict[Key, tuple[datetime, bytes]] = OrderedDict()
        self._asking: dict[Key, asyncio.Future[AgentDecisionRecorded]] = {}

    async def once(self, key: Key, ask: Callable[[], Awaitable[AgentDecisionRecorded]], *,
                   request_id: str, workflow_id: str, now: datetime
                   ) -> AgentDecisionRecorded:
        """``ask()``'s decision, or a repeat of the one this question already had (or is
        getting: the second request waits for the first's answer)."""
        if self.window <= timedelta(0):
            return await ask()
        earlier = self._answered.get(key)
        if earlier is not None and now - earlier[0] <= self.window:
            return repeat(AgentDecisionRecorded.model_validate_json(earlier[1]),
                          request_id=request_id, workflow_id=workflow_id, now=now)
        asking = self._asking.get(key)
        if asking is not None:
            first = await asyncio.shield(asking)
            return repeat(first, request_id=request_id, workflow_id=workflow_id, now=now)
        future: asyncio.Future[AgentDecisionRecorded] = (
            asyncio.get_running_loop().create_future())
        self._asking[key] = future
        try:
            decision = await ask()
        except BaseException as exc:
            # Whoever waits fails too; the queue asks again for each after its lease.
            future.set_exception(exc if isinstance(exc, Exception)
                                 else RuntimeError("the first request was abandoned"))
            future.exception()  # retrieved: no "never retrieved" warning when none waits
            raise
        finally:
            del self._asking[key]
        future.set_result(decision)
        return decision

    def clear(self) -> None:
        """Forget every answer (the chain changed: the same question may be answered
        otherwise now)."""
        self._answered.clear()

    def remember(self, key: Key, decision: AgentDecisionRecorded) -> None:
        """``decision`` answers ``key`` for later requests: called once it is recorded,
        so a repeat never names a decision that was rolled back (``Decided.then``)."""
        if self.window <= timedelta(0) or decision.same_as is not None:
            return
        self._answered[key] = (decision.decided_at, decision.model_dump_json().encode())
        self._answered.move_to_end(key)
        while len(self._answered) > self.size:
            self._answered.popitem(last=False)


def repeat(first: AgentDecisionRecorded, *, request_id: str, workflow_id: str,
           now: datetime) -> AgentDecisionRecorded:
    """A decision of its own for another request, with ``first``'s answer and who gave it,
    at no cost."""
    summary = f"{first.summary or first.agent} (same as {first.decision_id})"
    return first.model_copy(update=dict(
        decision_id=new_id(), request_id=request_id, workflow_id=workflow_id,
        latency_ms=0.0, tokens_in=0, tokens_out=0, cost=type(first.cost)(0), attempts=[],
        same_as=first.decision_id, summary=summary[:300], decided_at=now))
