"""The root-cause agent builds its read model from events and answers on acknowledgement."""

import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reasonops_agent_rca.app import RcaSettings
from reasonops_agent_rca.app import build_service as build_rca
from reasonops_contracts import Envelope, subjects
from reasonops_contracts.agents import AgentDecisionRecorded, RcaRequested
from reasonops_contracts.incidents import IncidentAcknowledged, IncidentOpened, IncidentResolved
from reasonops_contracts.ingest import ChangeAccepted, EventAccepted
from reasonops_runtime.jetstream import drained
from tests.support import owner, publish_all, stream_messages, wait_for

pytestmark = pytest.mark.nats

CATALOG = Path(__file__).resolve().parents[2] / "examples" / "config" / "service-catalog.yaml"
T = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


def wrap(event) -> Envelope:
    return Envelope.wrap(event, source=owner(event))


def alert(fp: str, name: str, service: str, summary: str, at: datetime) -> Envelope:
    return wrap(EventAccepted(fingerprint=fp, status="firing", name=name, severity="critical",
                              service=service, summary=summary, starts_at=at, received_at=at,
                              source_format="alertmanager", labels={"alertname": name}))


def opened(incident_id: str, fp: str, title: str, at: datetime) -> Envelope:
    return wrap(IncidentOpened(incident_id=incident_id, title=title, service="checkout",
                               severity="critical", impact=1, urgency=1, priority=1,
                               priority_reason="t", fingerprint=fp,
                               labels={"alertname": title}, opened_at=at))


async def decisions(nc):
    found = await stream_messages(nc, "AGENTS", subjects.AGENT_DECISION)
    return [e.decode(AgentDecisionRecorded) for e in found]


async def test_acknowledged_incident_gets_ranked_hypotheses(nc, start_service, tmp_path):
    catalog = tmp_path / "catalog.yaml"
    shutil.copy(CATALOG, catalog)
    service = await start_service(build_rca, RcaSettings, service_catalog=catalog)
    past_at = T - timedelta(days=3)
    await publish_all(nc, [
        opened("INC0000001", "fp-old", "HighErrorRate", past_at),
        wrap(IncidentResolved(incident_id="INC0000001", resolved_at=past_at + timedelta(hours=1),
                              actor="alice", note="rolled back checkout release")),
        wrap(ChangeAccepted(change_id="CHG-42", summary="deploy checkout v2.14.0",
                            service="checkout", timestamp=T - timedelta(minutes=20),
                            received_at=T, links=["https://ci.example.internal/run/42"])),
        wrap(ChangeAccepted(change_id="CHG-7", summary="search reindex", service="search",
                            timestamp=T - timedelta(minutes=10), received_at=T)),
        alert("fp-db", "PostgresTooManyConnections", "payments-db", "pool exhausted",
              T - timedelta(minutes=3)),
        alert("fp-new", "HighErrorRate", "checkout", "checkout 5xx at 12%", T),
        opened("INC0000002", "fp-new", "HighErrorRate", T),
    ])

    for stream, durable in (("INGEST", "agent-rca"), ("INCIDENTS", "agent-rca-incidents")):
        await drained(nc.jetstream(), stream, durable)
    await publish_all(nc, [wrap(IncidentAcknowledged(
        incident_id="INC0000002", acknowledged_at=T + timedelta(minutes=5), actor="bob"))])

    [decision] = await wait_for(lambda: decisions(nc), timeout=30)
    out = decision.output
    assert (decision.agent, decision.incident_id, decision.provider) == (
        "rca", "INC0000002", "rules")
    kinds = [h.evidence[0].kind for h in out.hypotheses]
    assert kinds[0] == "change"
    assert out.hypotheses[0].evidence[0].ref == "CHG-42"
    assert "dependency_alert" in kinds
    assert all(h.evidence[0].ref != "CHG-7" for h in out.hypotheses)  # search is unrelated
    assert out.similar_incidents == ["INC0000001"]
    assert "CHG-42" in out.next_check
    assert [h.confidence for h in out.hypotheses] == sorted(
        (h.confidence for h in out.hypotheses), reverse=True)

    await publish_all(nc, [wrap(RcaRequested(request_id="RCA-2", incident_id="INC0000002",
                                             requested_by="bob"))])
    found = await wait_for(lambda: decisions(nc), check=lambda d: len(d) == 2)
    assert found[1].request_id == "RCA-2"
    from reasonops_agent_rca import store
    async with service.store.read() as session:
        kinds = [t.kind for t in await store.timeline_of(session, "INC0000002")]
    assert kinds == ["opened", "acknowledged"]

    # Resolved just now, after the decisions above read the past: the next incident
    # like it is compared with it at once.
    await publish_all(nc, [
        wrap(IncidentResolved(incident_id="INC0000002", resolved_at=T + timedelta(hours=1),
                              actor="bob", note="rolled back CHG-42")),
        opened("INC0000003", "fp-next", "HighErrorRate", T + timedelta(hours=2))])
    await drained(nc.jetstream(), "INCIDENTS", "agent-rca-incidents")
    await publish_all(nc, [wrap(RcaRequested(request_id="RCA-3", incident_id="INC0000003",
                                             requested_by="bob"))])
    found = await wait_for(lambda: decisions(nc), check=lambda d: len(d) == 3)
    assert found[2].output.similar_incidents[:2] == ["INC0000002", "INC0000001"]


async def test_similar_incidents_by_embeddings_where_configured(nc, start_service, tmp_path):
    from functools import partial

    from reasonops_llm import LlmSettings
    from reasonops_llm.fakes import FakeLlmServer

    server = await FakeLlmServer({}).start()
    try:
        llm = LlmSettings(ollama_url=server.url)
        await start_service(partial(build_rca, llm=llm), RcaSettings,
                            embeddings="ollama:nomic-embed-text")
        past_at = T - timedelta(days=2)
        await publish_all(nc, [
            opened("INC0000003", "fp-a", "HighErrorRate", past_at),
            wrap(IncidentResolved(incident_id="INC0000003", resolved_at=past_at,
                                  actor="a", note="scaled the gateway")),
            opened("INC0000004", "fp-b", "DiskAlmostFull", past_at),
            wrap(IncidentResolved(incident_id="INC0000004", resolved_at=past_at,
                                  actor="a", note="cleaned logs")),
            opened("INC0000005", "fp-c", "HighErrorRate", T),
            wrap(RcaRequested(request_id="RCA-E", incident_id="INC0000005")),
        ])
        [decision] = await wait_for(lambda: decisions(nc), timeout=30)
    finally:
        await server.stop()
    assert decision.output.similar_incidents == ["INC0000003"]
    [recurrence] = [h for h in decision.output.hypotheses
                    if h.evidence[0].kind == "similar_incident"]
    assert "embeddings ollama:nomic-embed-text" in recurrence.evidence[0].note
    assert any(r.path == "/api/embed" for r in server.requests)


async def test_a_change_implemented_through_change_management_is_ranked_first(
        nc, start_service, tmp_path):
    """A ChangeStarted on checkout (change management's own event) weighs as a deploy a
    sender reported: the incident after it gets it as its first hypothesis."""
    from reasonops_contracts.changes import ChangeStarted

    catalog = tmp_path / "catalog.yaml"
    shutil.copy(CATALOG, catalog)
    await start_service(build_rca, RcaSettings, service_catalog=catalog)
    await publish_all(nc, [
        wrap(ChangeStarted(change_id="CHG0000042", type="normal",
                           title="Move checkout to the new card processor",
                           services=["checkout", "payments-db"], started_at=T - timedelta(
                               minutes=15), actor="user:carol")),
        alert("fp-new", "HighErrorRate", "checkout", "checkout 5xx at 12%", T),
        opened("INC0000003", "fp-new", "HighErrorRate", T),
    ])
    for stream, durable in (("INGEST", "agent-rca"), ("INCIDENTS", "agent-rca-incidents"),
                            ("CHANGES", "agent-rca-changes")):
        await drained(nc.jetstream(), stream, durable)
    await publish_all(nc, [wrap(RcaRequested(request_id="RCA-9", incident_id="INC0000003",
                                             requested_by="bob"))])
    [decision] = await wait_for(lambda: decisions(nc), timeout=30)
    first = decision.output.hypotheses[0]
    assert first.evidence[0].kind == "change"
    assert first.evidence[0].ref == "CHG0000042/checkout"
    assert "Move checkout to the new card processor" in first.cause


async def test_a_model_is_shown_a_storm_counted_not_alert_by_alert(nc, start_service):
    """Four hundred distinct alerts on the incident's service: the model is asked with
    the earliest thirty and every alert counted by name, a prompt of bounded size, and
    may cite any of them."""
    from functools import partial

    from reasonops_agent_rca.shown import ONE_BY_ONE
    from reasonops_llm import LlmSettings
    from reasonops_llm.fakes import FakeLlmServer

    def answer(body):
        return {"hypotheses": [{"cause": "connection pool exhausted after the deploy",
                                "confidence": 0.8, "evidence": [
                                    {"kind": "alert", "ref": "storm-000", "note": "first"}]}],
                "next_check": "the pool size", "similar_incidents": [],
                "summary": "The database connections ran out first."}

    server = await FakeLlmServer(answer).start()
    try:
        llm = LlmSettings(openai_url=server.url, openai_api_key="sk-test-0123456789abcdefgh",
                          timeout_seconds=10, retries=0)
        await start_service(partial(build_rca, llm=llm), RcaSettings,
                            chain="openai:gpt-4o-mini")
        storm = [alert("storm-000", "DatabaseConnectionsExhausted", "checkout", "pool empty",
                       T - timedelta(minutes=30))]
        storm += [alert(f"storm-{n:03d}", "PodCrashLooping", "checkout", f"pod {n} restarts",
                        T - timedelta(minutes=29) + timedelta(seconds=n)) for n in range(1, 400)]
        await publish_all(nc, [*storm, opened("INC0000009", "storm-000",
                                              "DatabaseConnectionsExhausted", T)])
        await drained(nc.jetstream(), "INGEST", "agent-rca")
        await drained(nc.jetstream(), "INCIDENTS", "agent-rca-incidents")
        await publish_all(nc, [wrap(RcaRequested(request_id="RCA-S", incident_id="INC0000009"))])
        [decision] = await wait_for(lambda: decisions(nc), timeout=30)
    finally:
        await server.stop()
    assert (decision.provider, decision.prompt_version) == ("openai", "rca.v2")
    assert decision.output.hypotheses[0].evidence[0].ref == "storm-000"
    [asked] = [r for r in server.requests if r.path.endswith("/chat/completions")]
    prompt = asked.body.decode()
    assert len(asked.body) < 40_000  # 400 alerts one by one: 81 kB
    assert len(set(re.findall(r"pod \d+ restarts", prompt))) == ONE_BY_ONE - 1  # the earliest
    assert '\\"count\\": 399' in prompt  # every crash-looping pod, counted

