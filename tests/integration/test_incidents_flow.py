import asyncio
from datetime import UTC, datetime

import pytest

from reasonops_contracts import Envelope
from reasonops_contracts.incidents import AcknowledgeIncident, IncidentList, IncidentView, ListIncidents
from reasonops_contracts.ingest import EventAccepted
from reasonops_incidents.app import IncidentSettings, build_service
from reasonops_runtime.client import request

pytestmark = pytest.mark.nats


def accepted(fp: str, status: str = "firing", severity: str = "critical") -> Envelope:
    event = EventAccepted(fingerprint=fp, status=status, name="HighErrorRate", severity=severity,
                          service="checkout", resource="pod-1", summary="checkout 5xx",
                          received_at=datetime.now(UTC), source_format="alertmanager")
    return Envelope.wrap(event, source="test")


async def wait_for(predicate, timeout=10.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await predicate()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def test_alerts_open_count_and_resolve_incidents(nc, start_service):
    await start_service(build_service, IncidentSettings)
    js = nc.jetstream()
    for env in [accepted("a"), accepted("a"), accepted("b", severity="warning")]:
        await js.publish(EventAccepted.SUBJECT, env.to_bytes(), headers=env.headers())

    async def two():
        found = await request(nc, ListIncidents(), IncidentList)
        return found if len(found.items) == 2 else None

    found = await wait_for(two)
    by_fp = {i.fingerprint: i for i in found.items}
    assert by_fp["a"].alert_count == 2
    assert by_fp["a"].priority == 1
    assert by_fp["b"].priority == 3
    view = await request(nc, AcknowledgeIncident(incident_id=by_fp["a"].incident_id), IncidentView)
    assert view.state == "acknowledged"
