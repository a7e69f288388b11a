"""PagerDuty's own Python client (``pagerduty`` from PyPI) pointed at ReasonOps.

The client insists on an https:// base URL, as PagerDuty's API is; a TLS
terminator on loopback (what an ingress does in production) sits in front of
ingest with a certificate made for this test.
"""

import asyncio
import contextlib
import json
import ssl
import subprocess
from pathlib import Path

import httpx
import pagerduty
import pytest

from reasonops_contracts.incidents import IncidentList, ListIncidents
from reasonops_contracts.ingest import ChangeAccepted, EventAccepted
from reasonops_contracts.streams import INGEST
from reasonops_incidents.app import IncidentSettings
from reasonops_incidents.app import build_service as build_incidents
from reasonops_ingest.app import IngestSettings, build_service
from reasonops_runtime.client import request
from tests.support import create_integration, stream_messages, wait_for

pytestmark = pytest.mark.nats

PAYLOADS = Path(__file__).resolve().parents[2] / "examples" / "payloads"


def certificate(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


@contextlib.asynccontextmanager
async def tls_terminator(cert: Path, key: Path, upstream_port: int):
    """https://127.0.0.1:PORT -> http://127.0.0.1:upstream_port, byte for byte."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    async def pipe(reader, writer):
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    async def handle(client_reader, client_writer):
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", upstream_port)
        await asyncio.gather(pipe(client_reader, up_writer), pipe(up_reader, client_writer))

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    async with server:
        yield f"https://127.0.0.1:{server.sockets[0].getsockname()[1]}"


@pytest.fixture
async def ingest(start_service):
    return await start_service(build_service, IngestSettings)


@pytest.fixture
async def base_url(ingest, tmp_path):
    cert, key = certificate(tmp_path)
    async with tls_terminator(cert, key, ingest.port) as url:
        yield url, cert


def client(base_url: tuple[str, Path], key: str) -> pagerduty.EventsApiV2Client:
    url, cert = base_url
    return pagerduty.EventsApiV2Client(key, base_url=url,
                                       verify=ssl.create_default_context(cafile=str(cert)))


async def accepted_events(nc) -> list[EventAccepted]:
    return [e.decode(EventAccepted)
            for e in await stream_messages(nc, INGEST.name, EventAccepted.SUBJECT)]


async def test_trigger_ack_resolve_round_trip_with_the_pagerduty_client(nc, base_url,
                                                                        start_service):
    await start_service(build_incidents, IncidentSettings)
    key = await create_integration(nc, "zabbix", default_service="orders")
    events = client(base_url, key)

    dedup = await asyncio.to_thread(events.trigger, "Replication lag 340 s", "db-2",
                                    dedup_key="orders-lag", severity="error")
    assert dedup == "orders-lag"
    generated = await asyncio.to_thread(events.trigger, "Disk full", "fs-3")
    assert len(generated) == 32  # a trigger without a key gets one back
    assert await asyncio.to_thread(events.acknowledge, "orders-lag") == "orders-lag"
    assert await asyncio.to_thread(events.resolve, "orders-lag") == "orders-lag"
    # A trigger after the resolve opens a new alert (a new fingerprint, a new incident).
    assert await asyncio.to_thread(events.trigger, "Replication lag again", "db-2",
                                   dedup_key="orders-lag") == "orders-lag"

    found = await accepted_events(nc)
    lag = [e for e in found if e.labels.get("dedup_key") == "orders-lag"]
    assert [e.status for e in lag] == ["firing", "resolved", "firing"]
    assert lag[0].fingerprint == lag[1].fingerprint != lag[2].fingerprint
    assert {(e.source_format, e.integration, e.service) for e in lag} == {
        ("pagerduty", "zabbix", "orders")}
    assert lag[0].severity == "error"
    assert lag[0].resource == "db-2"

    incidents = await wait_for(lambda: request(nc, ListIncidents(), IncidentList),
                               check=lambda r: len(r.items) == 3)
    by_fp = {i.fingerprint: i.state for i in incidents.items}
    assert by_fp[lag[0].fingerprint] == "resolved"
    assert by_fp[lag[2].fingerprint] == "new"


async def test_sample_trigger_and_retry_are_accepted_once(nc, ingest, base_url):
    key = await create_integration(nc, "zabbix")
    body = json.loads((PAYLOADS / "pagerduty-trigger.json").read_text())
    body["routing_key"] = key
    port = ingest.port
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        first = await http.post("/v2/enqueue", json=body)
        retry = await http.post("/v2/enqueue", json=body)
    assert first.status_code == retry.status_code == 202
    assert first.json() == {"status": "success", "message": "Event processed",
                            "dedup_key": "orders-db-replication-lag"}
    assert retry.json() == first.json()
    [event] = await accepted_events(nc)
    assert event.annotations["custom_details.lag_seconds"] == "340"
    assert event.service == "orders"  # PagerDuty's group, without a mapping or default


async def test_unknown_routing_key_is_an_invalid_event(nc, base_url):
    events = client(base_url, "0" * 32)
    with pytest.raises(pagerduty.HttpError) as refused:
        await asyncio.to_thread(events.trigger, "x", "y")
    assert refused.value.response.status_code == 400
    body = refused.value.response.json()
    assert body["status"] == "invalid event"
    assert body["errors"] == ["routing_key: unknown integration key"]
    assert await accepted_events(nc) == []


async def test_invalid_event_names_every_problem(nc, ingest):
    key = await create_integration(nc, "zabbix")
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ingest.port}") as http:
        response = await http.post("/v2/enqueue", json={
            "routing_key": key, "event_action": "trigger",
            "payload": {"summary": "x" * 1025, "severity": "fatal"}})
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "invalid event"
    fields = {e.split(":")[0] for e in body["errors"]}
    assert fields == {"payload.summary", "payload.source", "payload.severity"}


async def test_change_event_is_accepted_for_root_cause_analysis(nc, base_url):
    key = await create_integration(nc, "deployer", default_service="checkout")
    events = client(base_url, key)
    # (the client's own default timestamp is broken in 7.2.0: pass one, as tools do)
    await asyncio.to_thread(events.submit, "Deployed checkout v2.3.1", source="argo-cd",
                            custom_details={"version": "2.3.1"},
                            links=[{"href": "https://ci/1", "text": "build"}],
                            timestamp="2026-11-20T10:00:00Z")
    [envelope] = await stream_messages(nc, INGEST.name, ChangeAccepted.SUBJECT)
    change = envelope.decode(ChangeAccepted)
    assert (change.summary, change.source, change.service, change.integration) == (
        "Deployed checkout v2.3.1", "argo-cd", "checkout", "deployer")
    assert change.custom_details == {"version": "2.3.1"}
    assert change.links == ["https://ci/1"]
    assert change.timestamp.isoformat() == "2026-11-20T10:00:00+00:00"


async def test_a_store_failure_is_a_503_that_names_nothing_inside(nc, ingest):
    """The sender retries on 503; what the database said (its tables, its paths) stays in
    the service's log."""
    import sqlite3

    key = await create_integration(nc, "zabbix")
    body = json.loads((PAYLOADS / "pagerduty-trigger.json").read_text())
    body["routing_key"] = key
    path = ingest.settings.db_url().split("///", 1)[1]
    with sqlite3.connect(path) as db:  # the state table gone from under the service
        db.execute("ALTER TABLE ingest_pagerduty_alerts RENAME TO hidden_alerts")
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ingest.port}") as http:
        response = await http.post("/v2/enqueue", json=body)
    assert response.status_code == 503
    assert response.headers["retry-after"]
    answer = response.text
    assert "ingest_pagerduty_alerts" not in answer
    assert "sqlite" not in answer.lower()
    assert response.json()["errors"] == [
        f"the event's state could not be stored; retry after {response.headers['retry-after']}s"]
