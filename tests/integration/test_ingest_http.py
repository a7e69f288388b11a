"""Ingest against a real nats-server: HTTP webhooks and raw NATS publishing."""

import asyncio
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from reasonops_contracts import MSG_ID_HEADER, subjects
from reasonops_contracts.deadletter import MessageDeadLettered
from reasonops_contracts.ingest import ChangeAccepted, EventAccepted
from reasonops_contracts.streams import DEADLETTER, INGEST
from reasonops_ingest.app import IngestSettings, build_service
from reasonops_ingest.handlers import RAW_CONSUMER
from reasonops_runtime.jetstream import drained, ensure_streams
from reasonops_runtime.store import inbox_table
from tests.support import ingest_client, stream_messages, wait_for

pytestmark = pytest.mark.nats

PAYLOADS = Path(__file__).resolve().parents[2] / "examples" / "payloads"
JSON = {"content-type": "application/json"}


def sample(name: str) -> bytes:
    return (PAYLOADS / name).read_bytes()


async def count(js, stream: str, subject: str) -> int:
    info = await js.stream_info(stream, subjects_filter=subject)
    return (info.state.subjects or {}).get(subject, 0)


@pytest.fixture
async def ingest(start_service):
    return await start_service(build_service, IngestSettings)


@pytest.fixture
async def http(nc, ingest):
    async with ingest_client(nc, ingest) as client:
        yield client


async def test_firing_webhook_is_acked_only_once_events_are_in_the_stream(nc, http):
    js = nc.jetstream()
    response = await http.post("/v1/alertmanager", content=sample("alertmanager-firing.json"),
                               headers=JSON)
    assert response.status_code == 202
    body = response.json()
    assert (body["status"], body["accepted"]) == ("accepted", 2)
    # 202 means JetStream already acknowledged: no waiting needed.
    assert await count(js, INGEST.name, EventAccepted.SUBJECT) == 2
    envelopes = await stream_messages(nc, INGEST.name, EventAccepted.SUBJECT)
    assert [e.id for e in envelopes] == body["event_ids"]
    last = await js.get_last_msg(INGEST.name, EventAccepted.SUBJECT)
    # Nats-Msg-Id is the notification's own identity, so a retry is stored once.
    assert len(last.headers[MSG_ID_HEADER]) == 32
    retry = await http.post("/v1/alertmanager", content=sample("alertmanager-firing.json"),
                            headers=JSON)
    assert retry.status_code == 202
    assert await count(js, INGEST.name, EventAccepted.SUBJECT) == 2
    events = [e.decode(EventAccepted) for e in envelopes]
    assert {e.fingerprint for e in events} == {"a3c91e0f5d27b846", "5be204d7c81fa693"}
    assert {(e.status, e.severity, e.service) for e in events} == {
        ("firing", "critical", "checkout")}
    assert {e.resource for e in events} == {"10.42.3.17:8080", "10.42.5.9:8080"}
    assert all(e.source == "ingest" for e in envelopes)


async def test_resolved_webhook_resolves_the_same_fingerprints(nc, http):
    for name in ("alertmanager-firing.json", "alertmanager-resolved.json"):
        response = await http.post("/v1/alertmanager", content=sample(name), headers=JSON)
        assert response.status_code == 202
    events = [e.decode(EventAccepted)
              for e in await stream_messages(nc, INGEST.name, EventAccepted.SUBJECT)]
    assert len(events) == 4
    firing = {e.fingerprint for e in events if e.status == "firing"}
    resolved = {e.fingerprint for e in events if e.status == "resolved"}
    assert firing == resolved
    assert len(firing) == 2
    assert all(e.ends_at is not None for e in events if e.status == "resolved")


async def test_native_event_is_accepted(nc, http):
    response = await http.post("/v1/events", content=sample("event.json"), headers=JSON)
    assert (response.status_code, response.json()["accepted"]) == (202, 1)
    [envelope] = await stream_messages(nc, INGEST.name, EventAccepted.SUBJECT)
    event = envelope.decode(EventAccepted)
    assert (event.name, event.severity, event.source_format) == ("DiskAlmostFull", "error",
                                                                "event")


async def test_bad_requests_get_a_clear_4xx_and_publish_nothing(nc, http):
    js = nc.jetstream()
    ten_mb = b'{"alerts": [' + b" " * (10 * 1024 * 1024) + b"]}"
    assert "authorization" in http.headers

    async def chunked():
        for start in range(0, len(ten_mb), 65536):
            yield ten_mb[start:start + 65536]

    cases = [
        ("/v1/alertmanager", b'{"alerts": [{"status": "firing",', JSON, 400, "malformed JSON"),
        ("/v1/alertmanager", json.dumps({"alerts": "everything is on fire"}).encode(), JSON,
         422, "alerts"),
        ("/v1/alertmanager", json.dumps({"version": "4", "status": "firing"}).encode(), JSON,
         422, "alerts"),
        ("/v1/alertmanager", json.dumps({"alerts": [
            {"status": "on", "labels": {"alertname": 7}, "startsAt": "soon"}]}).encode(), JSON,
         422, "alerts.0.status"),
        ("/v1/events", json.dumps({"severity": "loud"}).encode(), JSON, 422, "name"),
        ("/v1/alertmanager", ten_mb, JSON, 413, "524288"),
        ("/v1/alertmanager", chunked(), JSON, 413, "524288"),
        ("/v1/events", b'{"name": "A"}', {"content-type": "text/plain"}, 415, "application/json"),
    ]
    for path, content, headers, status, named in cases:
        response = await http.post(path, content=content, headers=headers)
        assert response.status_code == status, (path, response.text)
        assert named in response.text
    wrong = (await http.post("/v1/alertmanager", json={"alerts": [
        {"status": "on", "labels": {"alertname": 7}, "startsAt": "soon"},
        {"status": "firing", "labels": {"instance": "x"}}]})).json()
    assert wrong["error"] == "invalid payload"
    assert {p["field"] for p in wrong["problems"]} == {
        "alerts.0.status", "alerts.0.labels.alertname", "alerts.0.startsAt", "alerts.1.labels"}
    assert await count(js, INGEST.name, EventAccepted.SUBJECT) == 0

    response = await http.post("/v1/alertmanager", content=sample("alertmanager-firing.json"),
                               headers=JSON)
    assert response.status_code == 202
    assert await count(js, INGEST.name, EventAccepted.SUBJECT) == 2
    metrics = (await http.get("/metrics")).text
    assert 'reasonops_ingest_rejected_total{format="alertmanager",reason="too_large",' \
           'transport="http"} 2.0' in metrics
    assert 'reasonops_ingest_events_total{format="alertmanager",outcome="accepted",' \
           'transport="http"} 2.0' in metrics


async def test_publish_failure_is_503_and_the_service_recovers(nc, http, ingest):
    js = nc.jetstream()
    await js.delete_stream(INGEST.name)
    ingest.settings.publish_timeout_seconds = 1.0
    response = await http.post("/v1/events", json={"name": "A"})
    assert response.status_code == 503
    assert response.json()["error"] == "publish failed"
    await ensure_streams(js, [INGEST])
    response = await http.post("/v1/events", json={"name": "A"})
    assert response.status_code == 202


async def test_only_raw_pagerduty_input_is_claimed_in_the_inbox(nc, ingest):
    """Stateless raw formats rely on their input-derived Nats-Msg-Id, not on inbox rows."""
    js = nc.jetstream()
    await js.publish(subjects.INGEST_RAW_EVENT, sample("event.json"))
    await js.publish(subjects.INGEST_RAW_PAGERDUTY, sample("pagerduty-trigger.json"))
    await wait_for(lambda: count(js, INGEST.name, EventAccepted.SUBJECT),
                   check=lambda n: n >= 2)
    await drained(js, INGEST.name, RAW_CONSUMER)
    async with ingest.store.read() as session:
        claimed = (await session.execute(select(inbox_table.c.message_id).where(
            inbox_table.c.consumer == RAW_CONSUMER))).scalars().all()
    assert len(claimed) == 1


async def test_raw_nats_payloads_become_accepted_events(nc, ingest):
    js = nc.jetstream()
    await js.publish(subjects.INGEST_RAW_ALERTMANAGER, sample("alertmanager-firing.json"))
    await js.publish(subjects.INGEST_RAW_EVENT, sample("event.json"),
                     headers={MSG_ID_HEADER: "sender-42"})
    await js.publish(subjects.INGEST_RAW_EVENT, sample("event.json"),
                     headers={MSG_ID_HEADER: "sender-42"})  # a retry: stored once

    envelopes = await wait_for(lambda: stream_messages(nc, INGEST.name, EventAccepted.SUBJECT),
                               check=lambda found: len(found) >= 3)
    events = [e.decode(EventAccepted) for e in envelopes]
    assert sorted(e.source_format for e in events) == ["alertmanager", "alertmanager", "event"]
    await asyncio.sleep(0.3)
    assert await count(js, INGEST.name, EventAccepted.SUBJECT) == 3


async def test_invalid_raw_message_is_dead_lettered_with_the_problem(nc, ingest):
    js = nc.jetstream()
    dead = subjects.dead_letter("ingest")
    await js.publish(subjects.INGEST_RAW_ALERTMANAGER, b'{"version": "4", "alerts": "none"}')
    await js.publish(subjects.INGEST_RAW_EVENT, b"not json at all")

    found = await wait_for(lambda: stream_messages(nc, DEADLETTER.name, dead),
                           check=lambda found: len(found) >= 2)
    parked = [e.decode(MessageDeadLettered) for e in found]
    by_subject = {p.original_subject: p for p in parked}
    assert "alerts: Input should be a valid array" in \
        by_subject[subjects.INGEST_RAW_ALERTMANAGER].error
    assert "not valid JSON" in by_subject[subjects.INGEST_RAW_EVENT].error
    assert by_subject[subjects.INGEST_RAW_EVENT].payload == "not json at all"
    assert await count(js, INGEST.name, EventAccepted.SUBJECT) == 0
    # the consumer keeps going
    await js.publish(subjects.INGEST_RAW_EVENT, b'{"name": "StillAlive"}')

    await wait_for(lambda: count(js, INGEST.name, EventAccepted.SUBJECT),
                   check=lambda n: n == 1)


async def test_every_format_has_its_own_raw_subject(nc, ingest):
    js = nc.jetstream()
    pagerduty = json.loads(sample("pagerduty-trigger.json"))
    change = {"routing_key": "r" * 32, "payload": {"summary": "Deployed checkout v2"}}
    for subject, body in ((subjects.INGEST_RAW_GRAFANA, sample("grafana-alerting.json")),
                          (subjects.INGEST_RAW_CLOUDEVENTS, sample("cloudevent-structured.json")),
                          (subjects.INGEST_RAW_PAGERDUTY, json.dumps(pagerduty).encode()),
                          (subjects.INGEST_RAW_CHANGE, json.dumps(change).encode())):
        await js.publish(subject, body)

    found = await wait_for(lambda: stream_messages(nc, INGEST.name, EventAccepted.SUBJECT),
                           check=lambda found: len(found) >= 3)
    formats = sorted(e.decode(EventAccepted).source_format for e in found)
    assert formats == ["cloudevents", "grafana", "pagerduty"]
    [change_event] = await wait_for(
        lambda: stream_messages(nc, INGEST.name, ChangeAccepted.SUBJECT), check=bool)
    assert change_event.decode(ChangeAccepted).summary == "Deployed checkout v2"
