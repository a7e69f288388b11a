"""Commands, queries and API requests are answered on the event loop: no thread per request.

FastStream resolves a handler parameter taken from its context (the raw message) as a
dependency, in a worker thread per call; a responder gets the message as its one
argument instead (``rpc._the_message``). Real service, real nats-server."""

import threading

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

