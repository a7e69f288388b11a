"""Integration keys, mappings, rate limits and the formats they send, on a real nats-server."""

import json
from pathlib import Path

import httpx
import pytest

from reasonops_contracts import MSG_ID_HEADER, ReplyError
from reasonops_contracts.ingest import (
    CreateIntegration,
    EventAccepted,
    IntegrationKeyIssued,
    IntegrationList,
    ListIntegrations,
    RevokeIntegration,
    RotateIntegrationKey,
)
from reasonops_contracts.streams import INGEST
from reasonops_ingest.app import IngestSettings, build_service
from reasonops_runtime.client import request
from tests.support import create_integration, key_headers, stream_messages

pytestmark = pytest.mark.nats

PAYLOADS = Path(__file__).resolve().parents[2] / "examples" / "payloads"
FIRING = (PAYLOADS / "alertmanager-firing.json").read_bytes()


@pytest.fixture
async def ingest(start_service):
    return await start_service(build_service, IngestSettings)


@pytest.fixture
async def http(ingest):
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ingest.port}",
                                 timeout=30) as client:
        yield client


async def events(nc) -> list[EventAccepted]:
    return [e.decode(EventAccepted)
            for e in await stream_messages(nc, INGEST.name, EventAccepted.SUBJECT)]


async def test_no_unknown_or_revoked_key_publishes_nothing(nc, http):
    key = await create_integration(nc, "prom")
    no_key = await http.post("/v1/alertmanager", content=FIRING,
                             headers={"content-type": "application/json"})
    unknown = await http.post("/v1/alertmanager", content=FIRING, headers=key_headers("x" * 32))
    assert (no_key.status_code, unknown.status_code) == (401, 401)
    assert no_key.headers["www-authenticate"] == "Bearer"
    assert "Authorization: Bearer" in no_key.json()["detail"]
    assert unknown.json()["error"] == "unknown key"
    by_query = await http.post(f"/v1/alertmanager?key={key}", content=FIRING,
                               headers={"content-type": "application/json"})
    assert by_query.status_code == 202

    await request(nc, RevokeIntegration(name="prom"), IntegrationList)
    revoked = await http.post("/v1/alertmanager", content=FIRING, headers=key_headers(key))
    assert revoked.status_code == 403
    assert revoked.json()["error"] == "revoked key"
    assert len(await events(nc)) == 2  # only the accepted request's alerts


async def test_rotation_keeps_the_old_key_for_the_grace_period_only(nc, http):
    old = await create_integration(nc, "grafana")
    rotated = await request(nc, RotateIntegrationKey(name="grafana", grace_seconds=3600),
                            IntegrationKeyIssued)
    assert rotated.key != old
    assert rotated.integration.previous_key_valid_until is not None
    for key in (old, rotated.key):
        assert (await http.post("/v1/alertmanager", content=FIRING,
                                headers=key_headers(key))).status_code == 202
    again = await request(nc, RotateIntegrationKey(name="grafana"), IntegrationKeyIssued)
    # Without a grace period the replaced keys are simply unknown.
    for key, status in ((old, 401), (rotated.key, 401), (again.key, 202)):
        response = await http.post("/v1/alertmanager", content=FIRING, headers=key_headers(key))
        assert response.status_code == status, key


async def test_keys_are_stored_hashed_and_listed_by_prefix(nc, ingest):
    key = await create_integration(nc, "zabbix", formats=["pagerduty"])
    listed = await request(nc, ListIntegrations(), IntegrationList)
    [view] = listed.items
    assert (view.name, view.key_prefix, view.formats) == ("zabbix", key[:6], ["pagerduty"])
    assert key not in view.model_dump_json()
    database = (ingest.settings.data_dir / "ingest.db").read_bytes()
    assert key.encode() not in database
    with pytest.raises(ReplyError) as duplicate:
        await create_integration(nc, "zabbix")
    assert duplicate.value.detail.field == "name"


async def test_a_format_the_integration_may_not_send_is_403(nc, http):
    key = await create_integration(nc, "pd-only", formats=["pagerduty"])
    response = await http.post("/v1/alertmanager", content=FIRING, headers=key_headers(key))
    assert response.status_code == 403
    assert "may not send 'alertmanager'" in response.json()["detail"]


async def test_mappings_defaults_and_static_labels_shape_the_alerts(nc, http):
    key = await create_integration(
        nc, "legacy", default_team="sre", static_labels={"env": "prod", "team": "payments"},
        label_mapping={"service": ["app"], "severity": ["level"]})
    body = {"name": "QueueBacklog", "labels": {"app": "billing", "level": "major"}}
    assert (await http.post("/v1/events", json=body,
                            headers=key_headers(key))).status_code == 202
    [event] = await events(nc)
    assert (event.service, event.severity, event.integration) == ("billing", "error", "legacy")
    # static labels never override the alert's own; a static team beats the default team
    assert event.labels == {"app": "billing", "level": "major", "env": "prod",
                            "team": "payments"}
    assert json.loads(event.original or "{}")["name"] == "QueueBacklog"


async def test_rate_limit_answers_429_with_retry_after_and_publishes_nothing(nc, http):
    key = await create_integration(nc, "noisy", rate_limit_per_second=1, burst=2)
    first = await http.post("/v1/alertmanager", content=FIRING, headers=key_headers(key))
    assert first.status_code == 202  # two alerts: the whole burst
    limited = await http.post("/v1/alertmanager", content=FIRING, headers=key_headers(key))
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert "1 events/s" in limited.json()["detail"]
    other = await create_integration(nc, "quiet")
    assert (await http.post("/v1/alertmanager", content=FIRING,
                            headers=key_headers(other))).status_code == 202
    assert len(await events(nc)) == 4


async def test_grafana_webhook_sample(nc, http):
    key = await create_integration(nc, "grafana")
    response = await http.post("/v1/grafana", content=(PAYLOADS / "grafana-alerting.json")
                               .read_bytes(), headers=key_headers(key))
    assert response.status_code == 202, response.text
    [event] = await events(nc)
    assert (event.fingerprint, event.source_format, event.service, event.resource,
            event.severity) == ("a3c0f1e2d3b4c5d6", "grafana", "file-share", "fs-03", "warning")
    assert "dashboardURL" in (event.original or "")


async def test_cloudevents_structured_batch_and_binary(nc, http, ingest):
    key = await create_integration(nc, "security")
    sample = json.loads((PAYLOADS / "cloudevent-structured.json").read_text())
    structured = await http.post("/v1/cloudevents", content=json.dumps(sample),
                                 headers=key_headers(key, "application/cloudevents+json"))
    resolved = {**sample, "id": "3", "data": {**sample["data"], "status": "resolved"}}
    two = json.dumps([{**sample, "id": "2"}, resolved])
    batch = await http.post("/v1/cloudevents", content=two,
                            headers=key_headers(key, "application/cloudevents-batch+json"))
    binary = await http.post("/v1/cloudevents", content=json.dumps(sample["data"]), headers={
        **key_headers(key), "ce-specversion": "1.0", "ce-id": "4", "ce-type": sample["type"],
        "ce-source": sample["source"], "ce-subject": "sso-2"})
    assert [r.status_code for r in (structured, batch, binary)] == [202, 202, 202]
    # The sender's retry of the same source + id is stored once.
    retry = await http.post("/v1/cloudevents", content=json.dumps(sample),
                            headers=key_headers(key, "application/cloudevents+json"))
    assert retry.status_code == 202
    found = await events(nc)
    assert len(found) == 4
    assert [e.status for e in found] == ["firing", "firing", "resolved", "firing"]
    assert found[0].fingerprint == found[1].fingerprint == found[2].fingerprint
    assert found[3].resource == "sso-2"
    assert {e.name for e in found} == {"com.example.security.auth.bruteforce"}
    last = await nc.jetstream().get_last_msg(INGEST.name, EventAccepted.SUBJECT)
    assert len(last.headers[MSG_ID_HEADER]) == 32
    missing = await http.post("/v1/cloudevents", content=b'{"x": 1}', headers={
        **key_headers(key), "ce-specversion": "1.0", "ce-type": "t"})
    assert missing.status_code == 422
    assert {p["field"] for p in missing.json()["problems"]} == {"ce-id", "ce-source"}


async def test_managing_integrations_takes_a_role_that_allows_it(nc, start_service, tmp_path):
    """Keys let senders in: only a principal the policy allows creates, revokes or rotates
    them, and one with no role does not even list them."""
    policy = tmp_path / "policy.yaml"
    policy.write_text("roles:\n  admin: {allow: ['*']}\n  observer: {allow: []}\n"
                      "principals:\n  user:admin: [admin]\n  user:olga: [observer]\n")
    await start_service(build_service, IngestSettings, policy=policy)
    made = await request(nc, CreateIntegration(name="grafana", actor="user:admin"),
                         IntegrationKeyIssued)
    assert made.integration.name == "grafana"
    for refused in (CreateIntegration(name="mine", actor="user:olga"),
                    RotateIntegrationKey(name="grafana", actor="user:olga"),
                    RevokeIntegration(name="grafana", actor="user:olga")):
        with pytest.raises(ReplyError) as err:
            await request(nc, refused, IntegrationKeyIssued)
        assert err.value.detail.code == "forbidden"
        assert "user:olga may not integration." in err.value.detail.message
    listed = await request(nc, ListIntegrations(actor="user:olga"), IntegrationList)
    assert [i.name for i in listed.items] == ["grafana"]  # an observer reads them
    with pytest.raises(ReplyError) as err:
        await request(nc, ListIntegrations(actor="user:mallory"), IntegrationList)
    assert err.value.detail.code == "forbidden"
