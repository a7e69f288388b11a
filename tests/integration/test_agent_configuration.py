"""``POST /api/agents/configure-llm`` (and ``reasonops agents configure``) change the
provider chain of every running replica of an agent through the agents' KV bucket: no
restart, and the next decision records the new provider."""

from __future__ import annotations

import asyncio
import os
import sys
from functools import partial

import httpx
import pytest

from reasonops_agent_triage.app import TriageSettings
from reasonops_agent_triage.app import build_service as build_triage
from reasonops_client.agents import gather_statuses
from reasonops_contracts import Envelope, subjects
from reasonops_contracts.agents import AgentDecisionRecorded, TriageRequested
from reasonops_contracts.gateway import AgentConfigured
from reasonops_gateway.app import GatewaySettings
from reasonops_gateway.app import build_service as build_gateway
from reasonops_llm import LlmSettings
from reasonops_llm.fakes import FakeLlmServer
from tests.support import issue_token, publish_all, stream_messages, wait_for

pytestmark = pytest.mark.nats

ANSWER = {"category": "storage", "assignment_group": "storage-operations",
          "suggested_impact": 2, "suggested_urgency": 2, "suggested_priority": 3,
          "confidence": 0.9, "reasons": ["disk"], "summary": "Disk fills up."}


def requested(incident: str) -> Envelope:
    event = TriageRequested(request_id=f"REQ-{incident}", workflow_id=f"WF-{incident}",
                            incident_id=incident, title="Disk almost full", service="billing",
                            severity="warning", priority=3,
                            labels={"alertname": "NodeFilesystemSpaceFillingUp"})
    return Envelope.wrap(event, source="orchestrator", subject=incident)


async def decided(nc, incident: str) -> AgentDecisionRecorded:
    found = await wait_for(lambda: stream_messages(nc, "AGENTS", subjects.AGENT_DECISION),
                           check=lambda all_: [e for e in all_ if e.subject == incident])
    [envelope] = [e for e in found if e.subject == incident]
    return envelope.decode(AgentDecisionRecorded)


async def test_configure_llm_switches_two_running_replicas_without_a_restart(
        nc, start_service):
    server = await FakeLlmServer(ANSWER, models=("llama3.1",)).start()
    try:
        llm = LlmSettings(ollama_url=server.url, timeout_seconds=10, retries=0)
        replicas = [await start_service(partial(build_triage, llm=llm), TriageSettings,
                                        instance=f"triage-{n}") for n in (1, 2)]
        gateway = await start_service(build_gateway, GatewaySettings)
        token = await issue_token(nc, "user:admin")
        await publish_all(nc, [requested("INC0000001")])
        assert (await decided(nc, "INC0000001")).provider == "rules"

        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{gateway.port}", timeout=10,
                                     headers={"Authorization": f"Bearer {token}"}) as api:
            refused = await api.post("/api/agents/configure-llm", json={
                "provider": "openai", "model": "gpt-4o", "api_key": "x"})
            assert (refused.status_code, refused.json()["field"]) == (422, "body.api_key")
            answer = await api.post("/api/agents/configure-llm", json={
                "provider": "ollama", "model": "llama3.1", "temperature": 0.2,
                "agent": "triage"})
            assert answer.status_code == 200, answer.text
            config = answer.json()["agents"]["triage"]
            assert (config["chain"], config["temperature"], config["updated_by"]) == (
                "ollama:llama3.1 -> rules", 0.2, "user:admin")

        statuses = await wait_for(
            lambda: gather_statuses(nc, probe=False, wait=0.5),
            check=lambda found: len(found) == 2 and all(
                s.chain == "ollama:llama3.1 -> rules" for s in found))
        assert {s.instance for s in statuses} == {"triage-1", "triage-2"}
        assert {(s.temperature, s.configured_by) for s in statuses} == {(0.2, "user:admin")}
        assert [r.name for r in replicas] == ["agent-triage"] * 2

        await publish_all(nc, [requested("INC0000002"), requested("INC0000003")])
        for incident in ("INC0000002", "INC0000003"):
            decision = await decided(nc, incident)
            assert (decision.provider, decision.fallback) == ("ollama", False)
        chats = [r.json() for r in server.requests if r.path == "/api/chat"]
        assert [(c["model"], c["options"]["temperature"]) for c in chats] == [
            ("llama3.1", 0.2)] * 2
        recorded = await wait_for(
            lambda: stream_messages(nc, "GATEWAY", AgentConfigured.SUBJECT))
        assert recorded[0].data["actor"] == "user:admin"
    finally:
        await server.stop()


async def test_the_cli_configures_through_the_same_bucket(nats_url, nc, start_service):
    await start_service(build_triage, TriageSettings)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "reasonops_cli", "agents", "configure", "--agent", "triage",
        "--chain", "ollama:llama3.1 -> rules", stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env=dict(os.environ, NATS_URL=nats_url))
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    assert "every running replica" in out.decode()
    [status] = await wait_for(lambda: gather_statuses(nc, probe=False, wait=0.5),
                              check=lambda found: found and found[0].chain.startswith("ollama"))
    assert status.configured_by == "user:tests"


async def test_run_asks_the_triage_agent_and_applies_nothing(nc, start_service, tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text("roles:\n  admin: {allow: ['*']}\n  reader: {allow: []}\n"
                      "principals:\n  user:admin: [admin]\n  user:rui: [reader]\n"
                      "  service:*: [admin]\n  agent:*: [admin]\n")
    await start_service(build_triage, TriageSettings, policy=policy)
    gateway = await start_service(build_gateway, GatewaySettings, policy=policy)
    url = f"http://127.0.0.1:{gateway.port}"
    admin, reader = await issue_token(nc, "user:admin"), await issue_token(nc, "user:rui")

    from reasonops_sdk import ApiError, ReasonOpsClient

    def run(token: str):
        with ReasonOpsClient(url, token) as client:
            return client.run_agents(event_type="incident", event_data={
                "incident_id": "INC0000042", "severity": "high",
                "description": "Disk almost full on /var", "service": "billing",
                "labels": {"alertname": "NodeFilesystemSpaceFillingUp"}})

    result = await asyncio.to_thread(run, admin)
    [decision] = result["decisions"]
    assert (decision.agent, decision.provider, decision.output.category) == (
        "triage", "rules", "storage")
    assert (decision.incident_id, result["actions_taken"]) == ("INC0000042", [])
    with pytest.raises(ApiError) as refused:
        await asyncio.to_thread(run, reader)
    assert refused.value.status == 403
    assert "agent.run" in refused.value.problem.detail
    # A run is an answer, not a record.
    assert not await stream_messages(nc, "AGENTS", subjects.AGENT_DECISION)
    async with httpx.AsyncClient(base_url=url, timeout=10,
                                 headers={"Authorization": f"Bearer {admin}"}) as api:
        bad = await api.post("/api/agents/run", json={"event_type": "incident",
                                                      "event_data": {"severity": "dire"}})
    assert (bad.status_code, bad.json()["field"]) == (422, "body.event_data.severity")
