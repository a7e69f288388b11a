"""PostgreSQL stops for a minute while alerts stream in: nothing is dead-lettered, and
everything accepted is handled once the database is back (the consumers wait for it
instead of counting its absence against the messages)."""

from __future__ import annotations

import asyncio
import json

import pytest

from reasonops_contracts import subjects
from reasonops_contracts.incidents import IncidentList, IncidentOpened, ListIncidents
from reasonops_contracts.streams import DEADLETTER, INCIDENTS
from reasonops_incidents.app import IncidentSettings
from reasonops_incidents.app import build_service as build_incidents
from reasonops_ingest.app import IngestSettings
from reasonops_ingest.app import build_service as build_ingest
from reasonops_runtime.client import request
from reasonops_slm.app import SlmSettings
from reasonops_slm.app import build_service as build_slm
from tests.support import stream_messages, wait_for

pytestmark = [pytest.mark.nats, pytest.mark.postgres, pytest.mark.slow]

ALERTS = 300
OUTAGE_SECONDS = 60


async def test_a_minute_without_the_database_loses_and_parks_nothing(
        nc, start_service, postgres_cluster, postgres_database):
    await start_service(build_ingest, IngestSettings)  # its raw path keeps no state
    await start_service(build_incidents, IncidentSettings, database_url=postgres_database())
    await start_service(build_slm, SlmSettings, database_url=postgres_database())
    js = nc.jetstream()

    async def stream() -> None:
        for i in range(ALERTS):
            event = {"name": f"Outage{i}", "service": "billing", "severity": "error",
                     "resource": f"db-{i}"}
            await js.publish(subjects.INGEST_RAW_EVENT, json.dumps(event).encode())
            await asyncio.sleep((OUTAGE_SECONDS + 20) / ALERTS)

    streaming = asyncio.create_task(stream())
    await asyncio.sleep(8)
    postgres_cluster.stop()
    try:
        await asyncio.sleep(OUTAGE_SECONDS)
    finally:
        postgres_cluster.start()
    await streaming

    async def listed() -> IncidentList:
        return await request(nc, ListIncidents(actor="user:admin", limit=1), IncidentList,
                             timeout=5)

    await wait_for(listed, check=lambda found: found.total == ALERTS, timeout=120)
    opened = await stream_messages(nc, INCIDENTS.name, IncidentOpened.SUBJECT)
    assert len(opened) == ALERTS  # each once
    assert len({e.subject for e in opened}) == ALERTS
    assert await stream_messages(nc, DEADLETTER.name) == []
