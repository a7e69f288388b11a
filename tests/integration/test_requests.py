"""Commands, queries and API requests are answered on the event loop: no thread per request.

FastStream resolves a handler parameter taken from its context (the raw message) as a
dependency, in a worker thread per call; a responder gets the message as its one
argument instead (``rpc._the_message``). Real service, real nats-server."""

import threading

import httpx
import pytest

from reasonops_contracts.incidents import IncidentList, ListIncidents
from reasonops_incidents.app import IncidentSettings, build_service
from reasonops_runtime.client import request
from tests.support import accepted, publish_all, wait_for

pytestmark = pytest.mark.nats


async def test_requests_are_answered_without_a_thread_each(nc, start_service):
    await start_service(build_service, IncidentSettings)
    threads = set(threading.enumerate())  # the service's, started with it
    await publish_all(nc, [accepted("a")])
    found = await wait_for(lambda: request(nc, ListIncidents(), IncidentList),
                           check=lambda r: r.items)
    assert [i.fingerprint for i in found.items] == ["a"]
    for _ in range(20):
        assert (await request(nc, ListIncidents(limit=1), IncidentList)).items
    started = [type(t).__name__ for t in set(threading.enumerate()) - threads]
    assert started == []


async def test_api_requests_are_answered_without_a_thread_each(gateway_stack):
    """FastAPI runs a plain-function dependency in a worker thread: the gateway's are
    coroutines."""
    threads = set(threading.enumerate())
    async with httpx.AsyncClient(base_url=gateway_stack["url"], timeout=10, headers={
            "Authorization": f"Bearer {gateway_stack['admin']}"}) as api:
        for _ in range(10):
            listed = await api.get("/api/incidents", params={"limit": 1})
            assert listed.status_code == 200, listed.text
            assert listed.json()["items"]
    started = [type(t).__name__ for t in set(threading.enumerate()) - threads]
    assert started == []
