import json

import pytest

from reasonops_contracts import ReplyError
from reasonops_contracts.incidents import (
    AcknowledgeIncident,
    CloseIncident,
    GetIncident,
    IncidentList,
    IncidentView,
    ListIncidents,
    ResolveIncident,
)
from reasonops_contracts.ingest import EventAccepted
from reasonops_incidents.app import IncidentSettings, build_service
from reasonops_runtime.client import request
from tests.support import accepted, publish_all, signed, wait_for

pytestmark = pytest.mark.nats


async def test_alerts_open_count_and_resolve_incidents(nc, start_service):
    await start_service(build_service, IncidentSettings)
    await publish_all(nc, [accepted("a"), accepted("a"), accepted("b", severity="warning")])

    async def two():
        found = await request(nc, ListIncidents(), IncidentList)
        return found if len(found.items) == 2 else None

    found = await wait_for(two)
    by_fp = {i.fingerprint: i for i in found.items}
    assert by_fp["a"].alert_count == 2
    assert (by_fp["a"].priority, by_fp["b"].priority) == (1, 3)
    assert [i.incident_id for i in found.items] == ["INC0000002", "INC0000001"]

    await publish_all(nc, [accepted("a", status="resolved")])

    async def resolved():
        view = await request(nc, GetIncident(incident_id=by_fp["a"].incident_id), IncidentView)
        return view if view.state == "resolved" else None

    assert (await wait_for(resolved)).note == "alert HighErrorRate resolved"


async def test_commands_move_the_lifecycle_and_refuse_illegal_transitions(nc, start_service):
    await start_service(build_service, IncidentSettings)
    await publish_all(nc, [accepted("a")])
    await wait_for(lambda: request(nc, ListIncidents(), IncidentList), check=lambda r: r.items)

    view = await request(nc, AcknowledgeIncident(incident_id="INC0000001", actor="alice"),
                         IncidentView)
    assert view.state == "acknowledged"
    with pytest.raises(ReplyError) as err:
        await request(nc, CloseIncident(incident_id="INC0000001"), IncidentView)
    assert err.value.detail.code == "illegal_transition"
    assert "acknowledged" in err.value.detail.message
    view = await request(nc, ResolveIncident(incident_id="INC0000001", note="rolled back"),
                         IncidentView)
    assert (view.state, view.note) == ("resolved", "rolled back")


async def test_unknown_incident_and_malformed_requests_get_typed_errors(nc, start_service):
    await start_service(build_service, IncidentSettings)
    with pytest.raises(ReplyError) as err:
        await request(nc, GetIncident(incident_id="INC0009999"), IncidentView)
    assert (err.value.detail.code, err.value.detail.field) == ("not_found", "incident_id")

    malformed = b'{"incident_id": 7, "x": 1}'
    reply = await nc.request(AcknowledgeIncident.SUBJECT, malformed, timeout=5,
                             headers=signed(AcknowledgeIncident.SUBJECT, malformed))
    body = json.loads(reply.data)
    assert body["ok"] is False
    assert body["error"]["code"] == "invalid_request"
    assert "incident_id" in body["error"]["message"]
    assert "x" in body["error"]["message"]

    reply = await nc.request(AcknowledgeIncident.SUBJECT, b"not json", timeout=5,
                             headers=signed(AcknowledgeIncident.SUBJECT, b"not json"))
    assert b"invalid_request" in reply.data


async def test_service_keeps_serving_after_a_poison_message(nc, start_service):
    await start_service(build_service, IncidentSettings)
    js = nc.jetstream()
    await js.publish(EventAccepted.SUBJECT, b"{broken")
    await publish_all(nc, [accepted("a")])
    found = await wait_for(lambda: request(nc, ListIncidents(), IncidentList),
                           check=lambda r: r.items)
    assert len(found.items) == 1
    info = await js.stream_info("DEADLETTER")
    assert info.state.messages == 1
