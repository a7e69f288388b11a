"""``/api/events``: the live stream as Server-Sent Events, filtered by what the caller
may read, resumable with ``Last-Event-ID`` without losing an event."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from reasonops_contracts.incidents import IncidentList, ListIncidents
from reasonops_runtime.client import request
from tests.support import accepted, publish_all, wait_for

pytestmark = pytest.mark.nats


async def read_events(api: httpx.AsyncClient, count: int, **headers: str) -> list[dict]:
    """The first ``count`` events of the stream (parsed ``id``, ``event``, ``data``)."""
    found: list[dict] = []
    current: dict = {}
    async with api.stream("GET", "/api/events", params={"types": "itsm.incident.opened."},
                          headers=headers) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        async for line in response.aiter_lines():
            if line.startswith(("id: ", "event: ", "data: ")):
                name, _, value = line.partition(": ")
                current[name] = value
            elif line == "" and "data" in current:
                found.append({**current, "data": json.loads(current["data"])})
                current = {}
                if len(found) == count:
                    return found
    return found


async def test_the_stream_is_live_scoped_and_resumable(gateway_stack, nc):
    url = gateway_stack["url"]
    admin = httpx.AsyncClient(base_url=url, timeout=15,
                              headers={"Authorization": f"Bearer {gateway_stack['admin']}"})
    olga = httpx.AsyncClient(base_url=url, timeout=15,
                             headers={"Authorization": f"Bearer {gateway_stack['olga']}"})
    async with admin, olga:
        everything = asyncio.create_task(read_events(admin, 2))
        mine = asyncio.create_task(read_events(olga, 1))
        await asyncio.sleep(0.5)  # both connected: the stream starts now
        await publish_all(nc, [accepted("live-s", service="search"),
                               accepted("live-c", service="checkout")])
        seen = await asyncio.wait_for(everything, 15)
        assert [e["event"] for e in seen] == ["itsm.incident.opened.v1"] * 2
        assert {e["data"]["data"]["service"] for e in seen} == {"search", "checkout"}
        olgas = await asyncio.wait_for(mine, 15)
        assert [e["data"]["data"]["service"] for e in olgas] == ["checkout"]

        # Resume after the first event: the second comes again, and then what happened
        # while nobody was listening.
        await publish_all(nc, [accepted("later", service="search")])
        await wait_for(lambda: request(nc, ListIncidents(actor="user:admin"), IncidentList),
                       check=lambda r: r.total == 5)
        resumed = await asyncio.wait_for(
            read_events(admin, 2, **{"Last-Event-ID": seen[0]["id"]}), 15)
        assert resumed[0]["id"] == seen[1]["id"]
        assert resumed[1]["data"]["data"]["fingerprint"] == "later"
        bad = await admin.get("/api/events", headers={"Last-Event-ID": "yesterday"})
        assert bad.status_code == 400


async def test_the_sdk_iterates_the_stream_from_where_it_is_told(gateway_stack):
    from reasonops_sdk import ReasonOpsClient

    def first_two() -> list:
        with ReasonOpsClient(gateway_stack["url"], gateway_stack["admin"]) as client:
            stream = client.events(["itsm.incident.opened."], last_event_id="0")
            return [next(stream), next(stream)]

    found = await asyncio.wait_for(asyncio.to_thread(first_two), 15)
    assert [e.type for e in found] == ["itsm.incident.opened.v1"] * 2
    assert {e.envelope.data["service"] for e in found} == {"checkout", "search"}
    assert int(found[0].id) < int(found[1].id)
