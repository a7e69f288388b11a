"""The broker stops mid-stream: nothing answered 202 is lost, the outage is 503, and ingest
recovers by itself when the broker returns (same port, same JetStream store)."""

import asyncio
import contextlib

import httpx
import nats
import pytest

from reasonops_cli.natsd import EmbeddedNats
from reasonops_contracts import subjects
from reasonops_contracts.ingest import EventAccepted
from reasonops_contracts.streams import INGEST
from reasonops_ingest.app import IngestSettings, build_service
from reasonops_runtime.claims import attach
from reasonops_runtime.ports import free_port
from tests.support import (
    create_integration,
    key_headers,
    signer_for_tests,
    stream_messages,
    wait_for,
)

pytestmark = [pytest.mark.nats, pytest.mark.slow]


@pytest.fixture
def broker(tmp_path):
    server = EmbeddedNats(tmp_path / "jetstream", port=free_port(), monitor_port=None,
                          log_file=tmp_path / "nats.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def ingest(broker, tmp_path):
    settings = IngestSettings(nats_url=broker.url, data_dir=tmp_path / "data",
                              http_port=free_port(), fetch_timeout=0.1,
                              outbox_poll_seconds=0.1, publish_timeout_seconds=1.0)
    service = build_service(settings)
    await service.start()
    yield service
    await service.stop()


async def test_broker_outage_loses_nothing_accepted_answers_503_and_recovers(broker, ingest):
    nc = await nats.connect(broker.url, max_reconnect_attempts=-1, reconnect_time_wait=0.2)
    attach(nc, signer_for_tests())
    key = await create_integration(nc, "storm")
    answers: dict[str, list[str]] = {"accepted": [], "unavailable": [], "other": []}
    stop = asyncio.Event()

    async def sender(http: httpx.AsyncClient, worker: int) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            try:
                response = await http.post("/v1/events", headers=key_headers(key),
                                           json={"name": f"Storm-{worker}-{n}"})
            except httpx.TransportError as exc:  # ingest itself must stay up throughout
                answers["other"].append(repr(exc))
                continue
            if response.status_code == 202:
                answers["accepted"].extend(response.json()["event_ids"])
            elif response.status_code == 503:
                assert response.headers["retry-after"]
                answers["unavailable"].append(response.json()["detail"])
            else:
                answers["other"].append(f"{response.status_code} {response.text[:200]}")

    url = f"http://127.0.0.1:{ingest.port}"
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        senders = [asyncio.create_task(sender(http, w)) for w in range(4)]
        await wait_for(lambda: len(answers["accepted"]) >= 200, timeout=60)
        broker.stop()  # mid-stream
        accepted_before = len(answers["accepted"])
        await wait_for(lambda: len(answers["unavailable"]) >= 8, timeout=60)
        broker.start()  # same port, same store
        recovered_from = len(answers["accepted"])
        await wait_for(lambda: len(answers["accepted"]) >= recovered_from + 200, timeout=60)
        stop.set()
        await asyncio.gather(*senders)

    assert answers["other"] == []
    assert accepted_before >= 200
    assert answers["unavailable"]
    stored = {e.id for e in await wait_for(
        lambda: stream_messages(nc, INGEST.name, EventAccepted.SUBJECT),
        check=lambda found: len(found) >= len(answers["accepted"]))}
    missing = set(answers["accepted"]) - stored
    assert missing == set()  # every 202, before, during and after the outage, is stored

    # The raw NATS consumer came back too.
    with contextlib.suppress(Exception):
        await nc.flush()
    await nc.jetstream().publish(subjects.INGEST_RAW_EVENT, b'{"name": "AfterTheStorm"}')
    await wait_for(lambda: stream_messages(nc, INGEST.name, EventAccepted.SUBJECT),
                   check=lambda found: any(e.data["name"] == "AfterTheStorm" for e in found),
                   timeout=30)
    await nc.close()
