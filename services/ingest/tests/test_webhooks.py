"""The HTTP layer against a fake publisher: status codes, bodies, nothing published on reject."""

from collections.abc import Sequence
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette

from reasonops_contracts import Envelope
from reasonops_contracts.ingest import EventAccepted
from reasonops_ingest.gate import StaticGate
from reasonops_ingest.handlers import Outgoing, PublishFailed
from reasonops_ingest.integrations import Integration, hash_key
from reasonops_ingest.metrics import IngestMetrics
from reasonops_ingest.ratelimit import RateLimiter
from reasonops_ingest.webhooks import Intake, is_json, webhook_routes
from reasonops_runtime import FrozenClock

PAYLOADS = Path(__file__).resolve().parents[3] / "examples" / "payloads"
LIMIT = 64 * 1024
KEY = "k" * 32


class FakePublisher:
    """Records what would have gone to JetStream; fails on demand."""

    def __init__(self) -> None:
        self.published: list[Envelope] = []
        self.fail = False

    async def __call__(self, messages: Sequence[Outgoing]) -> None:
        if self.fail:
            raise PublishFailed("JetStream did not acknowledge within 0.1s")
        self.published.extend(m.envelope for m in messages)


@pytest.fixture
def publisher() -> FakePublisher:
    return FakePublisher()


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


def integration(clock, **options) -> Integration:
    return Integration(name="test", key_hash=hash_key(KEY), key_prefix=KEY[:6],
                       created_at=clock.now(), **options)


@pytest.fixture
def intake(publisher, registry, clock) -> Intake:
    return Intake(gate=StaticGate({KEY: integration(clock)}, clock), publish=publisher,
                  clock=clock, metrics=IngestMetrics(registry), max_bytes=LIMIT,
                  limiter=RateLimiter())


@pytest.fixture
async def client(intake):
    app = Starlette(routes=webhook_routes(intake))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://ingest",
                                 headers={"authorization": f"Bearer {KEY}"}) as c:
        yield c


def metric(registry, name, **labels) -> float:
    return registry.get_sample_value(name, labels) or 0.0


async def test_firing_webhook_is_accepted_after_publish(client, publisher, registry, clock):
    response = await client.post("/v1/alertmanager",
                                 content=(PAYLOADS / "alertmanager-firing.json").read_bytes(),
                                 headers={"content-type": "application/json"})
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "accepted"
    assert body["accepted"] == 2
    assert body["event_ids"] == [e.id for e in publisher.published]
    events = [e.decode(EventAccepted) for e in publisher.published]
    assert [e.fingerprint for e in events] == ["a3c91e0f5d27b846", "5be204d7c81fa693"]
    assert all(e.severity == "critical" and e.service == "checkout" for e in events)
    assert all(e.received_at == clock.now() for e in events)
    assert all(e.source == "ingest" and e.subject == e.data["fingerprint"]
               for e in publisher.published)
    assert metric(registry, "reasonops_ingest_events_total", format="alertmanager",
                  transport="http", outcome="accepted") == 2


async def test_native_events_single_and_array(client, publisher):
    one = await client.post("/v1/events", content=(PAYLOADS / "event.json").read_bytes(),
                            headers={"content-type": "application/json; charset=utf-8"})
    many = await client.post("/v1/events", json=[{"name": "A"}, {"name": "B"}])
    assert (one.status_code, one.json()["accepted"]) == (202, 1)
    assert (many.status_code, many.json()["accepted"]) == (202, 2)
    assert len(publisher.published) == 3


async def test_malformed_json_is_400(client, publisher, registry):
    response = await client.post("/v1/alertmanager", content=b'{"alerts": [',
                                 headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"] == "malformed JSON"
    assert "line 1" in response.json()["detail"]
    assert publisher.published == []
    assert metric(registry, "reasonops_ingest_rejected_total", format="alertmanager",
                  transport="http", reason="malformed_json") == 1


async def test_invalid_payload_is_422_listing_every_field(client, publisher):
    response = await client.post("/v1/alertmanager", json={"alerts": [
        {"status": "firing", "labels": {"alertname": "Ok"}},
        {"status": 3, "labels": {"severity": "page"}},
    ]})
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid payload"
    assert {p["field"] for p in body["problems"]} == {"alerts.1.status", "alerts.1.labels"}
    assert publisher.published == []


async def test_missing_alerts_is_422(client):
    response = await client.post("/v1/alertmanager", json={"version": "4"})
    assert response.status_code == 422
    assert response.json()["problems"] == [{"field": "alerts", "message": "Field required"}]


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
async def test_wrong_content_type_is_415(client, publisher, content_type):
    headers = {"content-type": content_type} if content_type else {}
    response = await client.post("/v1/events", content=b'{"name": "A"}', headers=headers)
    assert response.status_code == 415
    assert "application/json" in response.json()["detail"]
    assert publisher.published == []


async def test_declared_oversize_body_is_413(client, publisher):
    response = await client.post("/v1/alertmanager", content=b" " * (LIMIT + 1),
                                 headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert str(LIMIT) in response.json()["detail"]
    assert publisher.published == []


async def test_streamed_oversize_body_stops_reading_early(client, publisher):
    sent = 0

    async def endless():
        nonlocal sent
        while sent < 100 * LIMIT:
            sent += 4096
            yield b" " * 4096

    response = await client.post("/v1/events", content=endless(),
                                 headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert sent < 2 * LIMIT  # abandoned soon after the limit, not read to the end
    assert publisher.published == []


async def test_publish_failure_is_503_so_the_sender_retries(client, publisher, registry):
    publisher.fail = True
    response = await client.post("/v1/events", json={"name": "A"})
    assert response.status_code == 503
    assert response.json()["error"] == "publish failed"
    assert response.headers["retry-after"] == "5"
    assert metric(registry, "reasonops_ingest_events_total", format="event", transport="http",
                  outcome="publish_failed") == 1


async def test_only_post_is_allowed(client):
    assert (await client.get("/v1/alertmanager")).status_code == 405


@pytest.mark.parametrize(("value", "ok"), [
    ("application/json", True), ("Application/JSON; charset=utf-8", True),
    ("application/cloudevents+json", True), ("text/json", False), ("", False), (None, False),
])
def test_json_media_types(value, ok):
    assert is_json(value) is ok

