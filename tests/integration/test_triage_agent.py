import asyncio

import pytest

from reasonops_agent_triage.app import TriageSettings, build_service
from reasonops_contracts import Envelope
from reasonops_contracts.agents import AgentDecisionRecorded, TriageRequested

pytestmark = pytest.mark.nats


def requested(request_id: str, **labels: str) -> Envelope:
    event = TriageRequested(request_id=request_id, workflow_id="WF-INC0000005",
                            incident_id="INC0000005", title="Disk almost full",
                            service="billing", severity="warning", priority=3, labels=labels)
    return Envelope.wrap(event, source="test", subject="INC0000005")


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
