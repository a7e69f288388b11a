"""The same question about the same incident is answered once (``reasonops_llm.repeats``)."""

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from reasonops_contracts.agents import AgentDecisionRecorded, TriageOutput
from reasonops_llm.repeats import Repeats, question_of

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")  # a future never awaited

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
ASKED = {"incident_id": "INC0000007", "title": "Checkout down", "severity": "critical",
         "priority": 1, "labels": {"service": "checkout"}}


class Provider:
    """Answers after ``delay`` seconds; counts what it was asked."""

    def __init__(self, delay: float = 0.0, fail: bool = False) -> None:
        self.asked = 0
        self.delay = delay
        self.fail = fail

    async def __call__(self, request_id: str, workflow_id: str) -> AgentDecisionRecorded:
        self.asked += 1
        await asyncio.sleep(self.delay)
        if self.fail:
            raise RuntimeError("provider down")
        return AgentDecisionRecorded(
            decision_id=f"D{self.asked}", agent="triage", request_id=request_id,
            workflow_id=workflow_id, incident_id="INC0000007", provider="openai",
            model="gpt-4o-mini", prompt_version="triage-v3", latency_ms=812.0, tokens_in=900,
            tokens_out=120, cost=Decimal("0.0004"), summary="Triage (openai): application",
            output=TriageOutput(category="application", assignment_group="checkout",
                                suggested_impact=1, suggested_urgency=1,
                                suggested_priority=1, confidence=0.8, reasons=["down"],
                                summary="Checkout is down."),
            decided_at=NOW)


async def ask(repeats: Repeats, provider: Provider, request_id: str, workflow_id: str, *,
              asked: dict[str, object] = ASKED, now: datetime = NOW, version: str = "triage-v3",
              recorded: bool = True) -> AgentDecisionRecorded:
    """A request's decision, remembered as the agent's queue does once it is recorded
    (unless not ``recorded``: its transaction rolled back)."""
    key = question_of("INC0000007", asked, version)
    decision = await repeats.once(key, lambda: provider(request_id, workflow_id),
                                  request_id=request_id, workflow_id=workflow_id, now=now)
    if recorded:
        repeats.remember(key, decision)
    return decision


async def test_two_workflows_asking_at_once_ask_the_provider_once():
    repeats, provider = Repeats(timedelta(hours=1)), Provider(delay=0.05)
    first, second = await asyncio.gather(ask(repeats, provider, "REQ-1", "WF-INC0000007"),
                                         ask(repeats, provider, "REQ-2", "MI-INC0000007"))
    assert provider.asked == 1
    assert (first.decision_id, first.same_as, first.cost) == ("D1", None, Decimal("0.0004"))
    assert (second.same_as, second.decision_id != "D1") == ("D1", True)
    assert (second.request_id, second.workflow_id) == ("REQ-2", "MI-INC0000007")
    assert second.output == first.output
    assert (second.provider, second.model) == ("openai", "gpt-4o-mini")  # who answered
    assert (second.tokens_in, second.tokens_out, second.cost, second.latency_ms,
            second.attempts) == (0, 0, Decimal("0"), 0.0, [])
    assert second.summary == "Triage (openai): application (same as D1)"


async def test_a_later_request_repeats_the_answer_within_the_window_only():
    repeats, provider = Repeats(timedelta(hours=1)), Provider()
    await ask(repeats, provider, "REQ-1", "WF-INC0000007")
    later = await ask(repeats, provider, "REQ-2", "MI-INC0000007",
                      now=NOW + timedelta(minutes=59))
    assert (provider.asked, later.same_as, later.decided_at) == (
        1, "D1", NOW + timedelta(minutes=59))
    too_late = await ask(repeats, provider, "REQ-3", "MI-INC0000007",
                         now=NOW + timedelta(minutes=61))
    assert (provider.asked, too_late.same_as) == (2, None)


async def test_another_question_is_asked():
    repeats, provider = Repeats(timedelta(hours=1)), Provider()
    await ask(repeats, provider, "REQ-1", "WF-INC0000007")
    await ask(repeats, provider, "REQ-2", "WF-INC0000007", asked={**ASKED, "priority": 2})
    await ask(repeats, provider, "REQ-3", "WF-INC0000007", version="triage-v4")
    assert provider.asked == 3


async def test_a_changed_chain_or_a_zero_window_asks_again():
    repeats, provider = Repeats(timedelta(hours=1)), Provider()
    await ask(repeats, provider, "REQ-1", "WF-INC0000007")
    repeats.clear()
    await ask(repeats, provider, "REQ-2", "MI-INC0000007")
    assert provider.asked == 2
    never = Repeats(timedelta(0))
    await ask(never, provider, "REQ-3", "WF-INC0000007")
    await ask(never, provider, "REQ-4", "MI-INC0000007")
    assert provider.asked == 4


async def test_a_failed_answer_fails_whoever_waited_and_is_not_remembered():
    repeats, failing = Repeats(timedelta(hours=1)), Provider(delay=0.05, fail=True)
    results = await asyncio.gather(ask(repeats, failing, "REQ-1", "WF-INC0000007"),
                                   ask(repeats, failing, "REQ-2", "MI-INC0000007"),
                                   return_exceptions=True)
    assert [type(r) for r in results] == [RuntimeError, RuntimeError]
    assert failing.asked == 1
    working = Provider()
    retried = await ask(repeats, working, "REQ-2", "MI-INC0000007")
    assert (working.asked, retried.same_as) == (1, None)


async def test_a_decision_that_was_not_recorded_is_never_repeated():
    """Its transaction rolled back (the request comes back): asked again, the answer is
    a decision of its own, not a repeat naming one that does not exist."""
    repeats, provider = Repeats(timedelta(hours=1)), Provider()
    lost = await ask(repeats, provider, "REQ-1", "WF-INC0000007", recorded=False)
    again = await ask(repeats, provider, "REQ-1", "WF-INC0000007")
    assert (provider.asked, again.same_as, again.decision_id != lost.decision_id) == (
        2, None, True)
    repeated = await ask(repeats, provider, "REQ-2", "MI-INC0000007")
    assert (provider.asked, repeated.same_as) == (2, again.decision_id)


async def test_only_the_latest_answers_are_kept():
    repeats, provider = Repeats(timedelta(hours=1), size=2), Provider()
    for n in range(3):
        await ask(repeats, provider, f"REQ-{n}", "WF", asked={**ASKED, "title": str(n)})
    await ask(repeats, provider, "REQ-9", "MI", asked={**ASKED, "title": "0"})
    assert provider.asked == 4


def test_the_question_is_the_incident_what_is_shown_and_the_prompt_version():
    assert question_of("INC1", {"a": 1, "b": 2}, "v1") == question_of("INC1", {"b": 2, "a": 1},
                                                                       "v1")
    assert question_of("INC1", {"a": 1}, "v1") != question_of("INC2", {"a": 1}, "v1")
    assert question_of("INC1", {"a": 1}, "v1") != question_of("INC1", {"a": 1}, "v2")
