"""A sender re-sends a notification after the broker's duplicate window has passed (an
Alertmanager that was cut off for longer): ingest gives the event the same id again, and
the incident service's inbox recognises it, so no alert is counted twice."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from nats.js.api import StreamConfig

from reasonops_contracts.incidents import IncidentList, ListIncidents
from reasonops_contracts.ingest import EventAccepted
from reasonops_contracts.streams import INGEST
from reasonops_incidents.app import IncidentSettings
from reasonops_incidents.app import build_service as build_incidents
from reasonops_ingest.app import IngestSettings
from reasonops_ingest.app import build_service as build_ingest
from reasonops_runtime.client import request
from tests.support import ingest_client, post_alertmanager, stream_messages, wait_for

pytestmark = pytest.mark.nats

FIRING = (Path(__file__).resolve().parents[2] / "examples" / "payloads"
          / "alertmanager-firing.json").read_bytes()


async def test_a_resend_after_the_duplicate_window_is_handled_once(nc, start_service):
    ingest = await start_service(build_ingest, IngestSettings)
    await start_service(build_incidents, IncidentSettings)
    js = nc.jetstream()
    config: StreamConfig = (await js.stream_info(INGEST.name)).config
    config.duplicate_window = 1.0  # the window, shortened: a re-send days later
    await js.update_stream(config)
    async with ingest_client(nc, ingest) as http:
        first = await post_alertmanager(http, FIRING)
        await asyncio.sleep(2.5)
        again = await post_alertmanager(http, FIRING)
    assert first.status_code == again.status_code == 202
    assert first.json()["event_ids"] == again.json()["event_ids"]
    # Both re-sends are in the stream (past the broker's window) ...
    stored = await wait_for(lambda: stream_messages(nc, INGEST.name, EventAccepted.SUBJECT),
                            check=lambda found: len(found) == 4)
    assert len({e.id for e in stored}) == 2
    # ... and the incident counts each alert once.
    listed = await wait_for(lambda: request(nc, ListIncidents(actor="user:admin"),
                                            IncidentList),
                            check=lambda found: len(found.items) == 1)
    await asyncio.sleep(1.0)
    listed = await request(nc, ListIncidents(actor="user:admin"), IncidentList)
    assert [i.alert_count for i in listed.items] == [2]


