import asyncio

import pytest

from reasonops_agent_triage.app import TriageSettings, build_service
from reasonops_contracts import Envelope
from reasonops_contracts.agents import AgentDecisionRecorded, TriageRequested
from tests.support import wait_for

pytestmark = pytest.mark.nats


def requested(request_id: str, **labels: str) -> Envelope:
    event = TriageRequested(request_id=request_id, workflow_id="WF-INC0000005",
                            incident_id="INC0000005", title="Disk almost full",
                            service="billing", severity="warning", priority=3, labels=labels)
    return Envelope.wrap(event, source="orchestrator", subject="INC0000005")


async def decisions(nc, count: int, timeout: float = 10.0) -> list[Envelope]:
    seen: list[Envelope] = []

    async def record(msg) -> None:
        seen.append(Envelope.from_bytes(msg.data))

    sub = await nc.subscribe(AgentDecisionRecorded.SUBJECT, cb=record)
    deadline = asyncio.get_running_loop().time() + timeout
    while len(seen) < count and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)  # a duplicate decision would show up here
    await sub.unsubscribe()
    return seen


async def test_request_gets_one_recorded_rules_decision(nc, start_service):
    await start_service(build_service, TriageSettings)
    js = nc.jetstream()
    first = requested("REQ-1", alertname="NodeFilesystemSpaceFillingUp", team="billing",
                      mountpoint="/var")
    collecting = asyncio.create_task(decisions(nc, 1))
    await asyncio.sleep(0.1)
    await js.publish(TriageRequested.SUBJECT, first.to_bytes(), headers=first.headers())
    # The same request again under a new message id: still one decision.
    again = requested("REQ-1")
    await js.publish(TriageRequested.SUBJECT, again.to_bytes(), headers=again.headers())

    [envelope] = await collecting
    decision = envelope.decode(AgentDecisionRecorded)
    assert (envelope.source, envelope.subject, envelope.causation_id) == (
        "agent-triage", "INC0000005", first.id)
    assert envelope.correlation_id == first.correlation_id
    assert (decision.request_id, decision.workflow_id, decision.agent) == (
        "REQ-1", "WF-INC0000005", "triage")
    assert (decision.provider, decision.model, decision.prompt_version) == (
        "rules", "rules", "triage-rules")
    assert not decision.fallback
    assert [a.provider for a in decision.attempts] == ["rules"]
    assert decision.latency_ms >= 0
    assert decision.output.category == "storage"
    assert decision.output.assignment_group == "billing"
    assert decision.output.suggested_priority == 3


async def test_model_is_asked_after_the_request_is_acked(nc, start_service):
    """A slow model never holds a consumer transaction or the message: the request is
    recorded and acked first; the decision follows when the model answers."""
    from functools import partial

    from reasonops_llm import LlmSettings
    from reasonops_llm.fakes import FakeLlmServer
    answer = {"category": "storage", "assignment_group": "storage-operations",
              "suggested_impact": 2, "suggested_urgency": 2, "suggested_priority": 3,
              "confidence": 0.9, "reasons": ["disk"], "summary": "Disk fills up."}
    server = await FakeLlmServer(answer, script=["timeout"], delay=1.5).start()
    try:
        llm = LlmSettings(openai_url=server.url, openai_api_key="sk-test-0123456789abcdefgh",
                          timeout_seconds=10, retries=0)
        await start_service(partial(build_service, llm=llm), TriageSettings,
                            chain="openai:gpt-4o-mini")
        collecting = asyncio.create_task(decisions(nc, 1))
        await asyncio.sleep(0.1)
        first = requested("REQ-SLOW")
        await nc.jetstream().publish(TriageRequested.SUBJECT, first.to_bytes(),
                                     headers=first.headers())

        async def acked():
            info = await nc.jetstream().consumer_info("AGENTS", "agent-triage")
            return info.num_ack_pending == 0 and info.num_pending == 0 and server.requests

        await wait_for(acked, timeout=10)
        assert not collecting.done()  # acked while the model is still thinking
        [envelope] = await collecting
    finally:
        await server.stop()
    decision = envelope.decode(AgentDecisionRecorded)
    assert (decision.provider, decision.output.summary) == ("openai", "Disk fills up.")


async def test_two_replicas_decide_each_request_once(nc, start_service, tmp_path):
    await start_service(build_service, TriageSettings)
    await start_service(build_service, TriageSettings, instance="replica-2")  # same store
    collecting = asyncio.create_task(decisions(nc, 20))
    await asyncio.sleep(0.1)
    for n in range(20):
        env = requested(f"REQ-R{n}")
        await nc.jetstream().publish(TriageRequested.SUBJECT, env.to_bytes(),
                                     headers=env.headers())
    seen = await collecting
    ids = [e.decode(AgentDecisionRecorded).request_id for e in seen]
    assert sorted(ids) == sorted(f"REQ-R{n}" for n in range(20))


async def test_llm_metrics_are_exported_under_their_names(start_service):
    import httpx
    service = await start_service(build_service, TriageSettings)
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"http://127.0.0.1:{service.port}/metrics")).text
    for name in ("reasonops_llm_calls_total", "reasonops_llm_call_seconds_bucket",
                 "reasonops_agent_decisions_total"):
        assert f'{name}{{agent="triage"' in text, name
    # Every provider's decisions, and repeats of an earlier answer, counted from zero.
    for provider in ("rules", "repeat"):
        assert f'reasonops_agent_decisions_total{{agent="triage",provider="{provider}"}} 0.0' \
            in text, provider


async def test_requests_in_flight_at_shutdown_are_decided_after_restart(nats_url, nc, tmp_path):
    """A stop during a slow model call releases the request instead of leaving it leased."""
    from reasonops_llm import LlmSettings
    from reasonops_llm.fakes import FakeLlmServer
    from reasonops_runtime.ports import free_port

    def settings(chain: str) -> TriageSettings:
        return TriageSettings(nats_url=nats_url, data_dir=tmp_path / "data",
                              http_port=free_port(), fetch_timeout=0.1,
                              outbox_poll_seconds=0.1, chain=chain)

    server = await FakeLlmServer({}, default="timeout", delay=30).start()
    slow = build_service(settings("openai:gpt-4o-mini"), llm=LlmSettings(
        openai_url=server.url, openai_api_key="sk-test-0123456789abcdefgh", timeout_seconds=60))
    await slow.start()
    env = requested("REQ-STOP")
    await nc.jetstream().publish(TriageRequested.SUBJECT, env.to_bytes(), headers=env.headers())
    await wait_for(lambda: server.requests)
    await slow.stop()
    await server.stop()

    again = build_service(settings("rules"))
    await again.start()
    try:
        from reasonops_contracts import subjects
        from tests.support import stream_messages
        [envelope] = await wait_for(lambda: stream_messages(nc, "AGENTS",
                                                            subjects.AGENT_DECISION))
    finally:
        await again.stop()
    decision = envelope.decode(AgentDecisionRecorded)
    assert (decision.request_id, decision.provider) == ("REQ-STOP", "rules")


async def test_a_p1_s_two_workflows_asking_the_same_ask_the_model_once(nc, start_service):
    """incident-response and major-incident both ask triage about a P1: one model call,
    two decisions (one per request), the second naming the first it repeats."""
    from functools import partial

    from reasonops_llm import LlmSettings
    from reasonops_llm.fakes import FakeLlmServer
    answer = {"category": "application", "assignment_group": "checkout",
              "suggested_impact": 1, "suggested_urgency": 1, "suggested_priority": 1,
              "confidence": 0.9, "reasons": ["down"], "summary": "Checkout is down."}
    server = await FakeLlmServer(answer).start()
    try:
        llm = LlmSettings(openai_url=server.url, openai_api_key="sk-test-0123456789abcdefgh",
                          timeout_seconds=10, retries=0)
        await start_service(partial(build_service, llm=llm), TriageSettings,
                            chain="openai:gpt-4o-mini")
        collecting = asyncio.create_task(decisions(nc, 3))
        await asyncio.sleep(0.1)
        js = nc.jetstream()
        for request_id, workflow_id, title in (("REQ-WF", "WF-INC0000005", "Disk almost full"),
                                               ("REQ-MI", "MI-INC0000005", "Disk almost full"),
                                               ("REQ-NEW", "WF-INC0000005", "Disk full")):
            event = requested(request_id).decode(TriageRequested).model_copy(
                update={"workflow_id": workflow_id, "title": title})
            sent = Envelope.wrap(event, source="orchestrator", subject="INC0000005")
            await js.publish(TriageRequested.SUBJECT, sent.to_bytes(), headers=sent.headers())
        found = {e.decode(AgentDecisionRecorded).request_id: e.decode(AgentDecisionRecorded)
                 for e in await collecting}
    finally:
        await server.stop()
    assert len(server.requests) == 2  # the same question once, the changed title again
    asked, repeated = (found["REQ-WF"], found["REQ-MI"]) if found["REQ-MI"].same_as else (
        found["REQ-MI"], found["REQ-WF"])
    assert (asked.same_as, asked.provider, asked.tokens_in > 0) == (None, "openai", True)
    assert repeated.same_as == asked.decision_id
    assert (repeated.output, repeated.provider) == (asked.output, "openai")
    assert (repeated.tokens_in, repeated.cost, repeated.workflow_id) == (
        0, 0, {"REQ-WF": "WF-INC0000005", "REQ-MI": "MI-INC0000005"}[repeated.request_id])
    assert found["REQ-NEW"].same_as is None
