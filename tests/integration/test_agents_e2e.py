"""An Alertmanager alert -> ingest -> incident -> incident-response workflow -> triage
agent with a fake OpenAI-compatible server first and rules second."""

import json
import uuid
from functools import partial

import pytest

from reasonops_agent_triage.app import TriageSettings
from reasonops_agent_triage.app import build_service as build_triage
from reasonops_contracts import subjects
from reasonops_contracts.agents import AgentDecisionRecorded
from reasonops_contracts.workflows import GetWorkflow, WorkflowView
from reasonops_incidents.app import IncidentSettings
from reasonops_incidents.app import build_service as build_incidents
from reasonops_ingest.app import IngestSettings
from reasonops_ingest.app import build_service as build_ingest
from reasonops_llm import LlmSettings
from reasonops_llm.fakes import FakeLlmServer
from reasonops_orchestrator.app import OrchestratorSettings
from reasonops_orchestrator.app import build_service as build_orchestrator
from reasonops_runtime.client import request
from reasonops_runtime.ports import free_port
from tests.support import stream_messages, wait_for

pytestmark = pytest.mark.nats

SECRET = "Xq7Lm2Vb9Nc4Zt8Rw3Ky6Hp1"
MODEL_ANSWER = {
    "category": "database", "assignment_group": "database-administration",
    "suggested_impact": 1, "suggested_urgency": 2, "suggested_priority": 2,
    "confidence": 0.86, "reasons": ["replication lag on the orders primary"],
    "summary": "The orders database primary lags its replicas; DBAs should check I/O.",
}


def alertmanager_webhook() -> bytes:
    fingerprint = uuid.uuid4().hex[:16]
    return json.dumps({
        "version": "4", "groupKey": "{}:{alertname=\"PostgresReplicationLag\"}",
        "truncatedAlerts": 0, "status": "firing", "receiver": "reasonops",
        "groupLabels": {"alertname": "PostgresReplicationLag"},
        "commonLabels": {"alertname": "PostgresReplicationLag"}, "commonAnnotations": {},
        "externalURL": "http://alertmanager.example.internal:9093",
        "alerts": [{
            "status": "firing",
            "labels": {"alertname": "PostgresReplicationLag", "service": "orders-db",
                       "severity": "critical", "job": "postgres", "instance": "db-1:9187"},
            "annotations": {
                "summary": "replica db-2 is 95s behind the primary",
                "description": f"reported by dba.oncall@example.com; dsn "
                               f"postgres://monitor:{SECRET}@db-1:5432/orders"},
            "startsAt": "2026-11-20T09:14:03.512Z", "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example.internal:9090/graph",
            "fingerprint": fingerprint,
        }],
    }).encode()


async def run_chain(nc, start_service, llm_url: str) -> tuple[AgentDecisionRecorded, WorkflowView]:
    llm = LlmSettings(openai_url=llm_url, openai_api_key="sk-test-e2e-key-0123456789abcd",
                      retries=0, timeout_seconds=2)
    await start_service(build_ingest, IngestSettings)
    await start_service(build_incidents, IncidentSettings)
    await start_service(build_orchestrator, OrchestratorSettings)
    await start_service(partial(build_triage, llm=llm), TriageSettings,
                        chain="openai:gpt-4o-mini -> rules")
    await nc.jetstream().publish(subjects.INGEST_RAW_ALERTMANAGER, alertmanager_webhook())

    async def decided():
        found = await stream_messages(nc, "AGENTS", subjects.AGENT_DECISION)
        # A P1 also runs the major-incident workflow, which asks triage too.
        return [e.decode(AgentDecisionRecorded) for e in found
                if e.data.get("workflow_id", "").startswith("WF-")]

    [decision] = await wait_for(decided, timeout=30)

    async def triaged():
        view = await request(nc, GetWorkflow(incident_id=decision.incident_id), WorkflowView)
        return view if any(s.step == "triage" and s.state == "completed"
                           for s in view.steps) else None

    return decision, await wait_for(triaged, timeout=30)


async def test_alert_is_triaged_by_the_model(nc, start_service):
    server = await FakeLlmServer(MODEL_ANSWER).start()
    try:
        decision, workflow = await run_chain(nc, start_service, server.url)
    finally:
        await server.stop()
    assert decision.incident_id
    assert decision.incident_id.startswith("INC")
    assert (decision.provider, decision.model) == ("openai", "fake-model"), decision.attempts
    assert not decision.fallback
    assert decision.output.summary == MODEL_ANSWER["summary"]
    assert (decision.tokens_in, decision.tokens_out) == (120, 40)
    assert decision.prompt_version == "triage.v1"
    assert len(decision.prompt_hash) == 16
    assert {"email", "url_password"} <= set(decision.redacted)
    sent = server.seen_text()
    assert "PostgresReplicationLag" in sent
    assert SECRET not in sent
    assert "dba.oncall@example.com" not in sent
    [step] = [s for s in workflow.steps if s.step == "triage"]
    assert step.result["provider"] == "openai"
    assert step.result["category"] == "database"


async def test_with_the_model_down_rules_decide_and_say_so(nc, start_service):
    decision, workflow = await run_chain(nc, start_service, f"http://127.0.0.1:{free_port()}")
    assert decision.provider == "rules"
    assert decision.fallback
    assert [(a.provider, a.outcome) for a in decision.attempts] == [("openai", "error"),
                                                                    ("rules", "ok")]
    assert "cannot connect" in decision.attempts[0].detail
    assert "rules after openai failed" in (decision.summary or "")
    assert decision.output.category == "database"
    [step] = [s for s in workflow.steps if s.step == "triage"]
    assert (step.result["provider"], step.result["fallback"]) == ("rules", True)
