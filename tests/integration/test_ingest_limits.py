"""The limits of ``reasonops_contracts.limits`` at the edge: what ingest accepts is stored
by every service on SQLite and on PostgreSQL alike (nothing accepted with 202 is lost to
the dead-letter stream later); identifiers beyond them and oversized requests are refused
with the field named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reasonops_contracts import limits
from reasonops_contracts.incidents import IncidentList, ListIncidents
from reasonops_contracts.streams import DEADLETTER
from reasonops_incidents.app import IncidentSettings
from reasonops_incidents.app import build_service as build_incidents
from reasonops_ingest.app import IngestSettings
from reasonops_ingest.app import build_service as build_ingest
from reasonops_runtime.client import request
from tests.support import ingest_client, post_alertmanager, stream_messages, wait_for

pytestmark = pytest.mark.nats

FIRING = json.loads((Path(__file__).resolve().parents[2] / "examples" / "payloads"
                     / "alertmanager-firing.json").read_text())


def monstrous() -> dict:
    """What a misconfigured template sends: a 5,000-character alertname, a 100 KB group
    key, NULs in labels, a 300 KB description."""
    body = json.loads(json.dumps(FIRING))
    body["groupKey"] = "{}:" + "x" * 100_000
    alert = body["alerts"][0]
    alert["labels"]["alertname"] = "Checkout" + "E" * 5000
    alert["labels"]["pod"] = "checkout-\x00-5c8d7b9f4"
    alert["labels"]["a" * 300] = "v" * 10_000
    alert["annotations"]["summary"] = "s" * 3000
    alert["annotations"]["description"] = "d" * 300_000
    body["alerts"] = [alert]
    return body


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def incidents_database(request, tmp_path):
    if request.param == "sqlite":
        return None  # the service's own file
    return request.getfixturevalue("postgres_database")()


async def test_what_is_accepted_is_stored_on_every_backend(nc, start_service,
                                                            incidents_database):
    ingest = await start_service(build_ingest, IngestSettings)
    await start_service(build_incidents, IncidentSettings,
                        **({"database_url": incidents_database} if incidents_database else {}))
    async with ingest_client(nc, ingest) as http:
        response = await post_alertmanager(http, json.dumps(monstrous()).encode())
    assert response.status_code == 202, response.text

    listed = await wait_for(
        lambda: request(nc, ListIncidents(actor="user:admin"), IncidentList),
        check=lambda found: len(found.items) == 1, timeout=20)
    (incident,) = listed.items
    assert len(incident.title) == limits.SUMMARY
    assert incident.title.endswith(limits.MARKER)
    assert await stream_messages(nc, DEADLETTER.name) == []


async def test_oversized_requests_and_identifiers_are_refused_naming_the_field(
        nc, start_service):
    ingest = await start_service(build_ingest, IngestSettings)
    many = json.loads(json.dumps(FIRING))
    many["alerts"] = [{"status": "firing", "labels": {"alertname": f"A{i}"}}
                      for i in range(limits.ALERTS_PER_REQUEST + 1)]  # small, but many
    long_service = json.loads(json.dumps(FIRING))
    for alert in long_service["alerts"]:
        alert["labels"]["service"] = "s" * (limits.SERVICE + 1)
    async with ingest_client(nc, ingest) as http:
        refused = await post_alertmanager(http, json.dumps(many).encode())
        assert refused.status_code == 422, refused.text
        assert [p["field"] for p in refused.json()["problems"]] == ["alerts"]
        assert "at most 1000" in refused.json()["problems"][0]["message"]

        refused = await post_alertmanager(http, json.dumps(long_service).encode())
        assert refused.status_code == 422, refused.text
        assert [p["field"] for p in refused.json()["problems"]] == ["service"]
        assert "at most 256 characters" in refused.json()["problems"][0]["message"]
