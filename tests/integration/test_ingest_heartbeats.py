"""Heartbeats: a missed ping opens an incident through the normal path; the next resolves it."""

from datetime import timedelta

import httpx
import pytest

from reasonops_contracts.incidents import IncidentList, ListIncidents
from reasonops_contracts.ingest import EventAccepted, HeartbeatList, ListHeartbeats
from reasonops_contracts.streams import INGEST
from reasonops_incidents.app import IncidentSettings
from reasonops_incidents.app import build_service as build_incidents
from reasonops_ingest.app import IngestSettings, build_service
from reasonops_runtime import FrozenClock
from reasonops_runtime.client import request
from tests.support import create_integration, stream_messages, wait_for

pytestmark = pytest.mark.nats


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
async def ingest(start_service, clock):
    return await start_service(build_service, IngestSettings, clock=clock)


@pytest.fixture
async def http(ingest):
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ingest.port}",
                                 timeout=30) as client:
        yield client


async def heartbeat_events(nc) -> list[EventAccepted]:
    return [e.decode(EventAccepted)
            for e in await stream_messages(nc, INGEST.name, EventAccepted.SUBJECT)]


async def test_missed_heartbeat_opens_an_incident_and_its_return_resolves_it(
        nc, http, clock, start_service):
    await start_service(build_incidents, IncidentSettings)
    key = await create_integration(nc, "backups", default_service="backup")
    first = await http.post("/v1/heartbeats/nightly?interval=60",
                            headers={"authorization": f"Bearer {key}"})
    assert first.status_code == 202
    assert first.json()["interval_seconds"] == 60
    clock.advance(timedelta(seconds=30))
    assert (await http.get(f"/v1/heartbeats/nightly?key={key}")).status_code == 202
    clock.advance(timedelta(seconds=59))
    listed = await request(nc, ListHeartbeats(), HeartbeatList)
    assert [(h.name, h.status) for h in listed.items] == [("nightly", "ok")]
    assert await heartbeat_events(nc) == []  # pinged in time: nothing raised

    clock.advance(timedelta(seconds=2))
    [missing] = await wait_for(lambda: heartbeat_events(nc), check=lambda found: found)
    assert (missing.status, missing.name, missing.service, missing.source_format) == (
        "firing", "HeartbeatMissing", "backup", "heartbeat")
    incidents = await wait_for(lambda: request(nc, ListIncidents(), IncidentList),
                               check=lambda r: r.items)
    assert incidents.items[0].fingerprint == missing.fingerprint
    listed = await request(nc, ListHeartbeats(integration="backups"), HeartbeatList)
    assert listed.items[0].status == "missing"

    clock.advance(timedelta(seconds=600))  # still missing: raised once, not again
    assert (await http.post(f"/v1/heartbeats/nightly?key={key}")).status_code == 202
    found = await wait_for(lambda: heartbeat_events(nc), check=lambda f: len(f) == 2)
    assert [e.status for e in found] == ["firing", "resolved"]
    assert found[1].fingerprint == missing.fingerprint
    await wait_for(lambda: request(nc, ListIncidents(), IncidentList),
                   check=lambda r: r.items[0].state == "resolved")


async def test_heartbeat_needs_a_key_and_an_interval_first(nc, http):
    key = await create_integration(nc, "cron")
    assert (await http.post("/v1/heartbeats/job")).status_code == 401
    no_interval = await http.post(f"/v1/heartbeats/job?key={key}")
    assert no_interval.status_code == 422
    assert no_interval.json()["problems"][0]["field"] == "interval"
    for wrong in ("soon", "²", "٣٠"):  # a superscript and Arabic-Indic digits are not seconds
        bad = await http.post(f"/v1/heartbeats/job?key={key}&interval={wrong}")
        assert bad.status_code == 422, wrong
        assert bad.json()["problems"][0]["field"] == "interval"
    assert (await request(nc, ListHeartbeats(), HeartbeatList)).items == []
