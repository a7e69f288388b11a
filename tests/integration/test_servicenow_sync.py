"""Incidents kept in step with ServiceNow, both ways, on a real nats-server against a
local server speaking ServiceNow's Table API (``tests/fake_servicenow.py``)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

import httpx
import pytest

from reasonops_contracts import ReplyError
from reasonops_contracts.incidents import (
    AcknowledgeIncident,
    CreateIncident,
    GetIncident,
    IncidentView,
)
from reasonops_contracts.servicenow import (
    GetServiceNowStatus,
    ResyncResult,
    ResyncServiceNow,
    ServiceNowStatus,
)
from reasonops_gateway.app import GatewaySettings
from reasonops_gateway.app import build_service as build_gateway
from reasonops_incidents.app import IncidentSettings
from reasonops_incidents.app import build_service as build_incidents
from reasonops_runtime.client import request
from reasonops_runtime.ports import free_port
from reasonops_servicenow.app import SyncSettings
from reasonops_servicenow.app import build_service as build_sync
from tests.fake_servicenow import CLIENT_ID, CLIENT_SECRET, PASSWORD, USER, FakeServiceNow
from tests.integration.conftest import CONFIG, POLICY
from tests.support import cli, issue_token, stream_messages, wait_for

MAPPING = """\
sync:
  - {priorities: [1, 2]}
fields:
  short_description: {from: title, max_length: 160}
  impact: {from: impact}
  urgency: {from: urgency}
  state: {from: state, values: {new: "1", acknowledged: "2", on_hold: "3",
                                resolved: "6", closed: "7"}}
  assignment_group: {from: assignment_group,
                     values: {payments: Payments Support, identity: Identity}}
  caller_id: {from: labels.caller}
  close_code: {value: Solution provided, when: [resolved, closed]}
  close_notes: {from: note, default: Resolved in ReasonOps, when: [resolved, closed]}
"""
ADMIN = "user:admin"


@pytest.fixture
async def servicenow():
    fake = await FakeServiceNow().start()
    yield fake
    await fake.stop()


@pytest.fixture
def stack(start_service, tmp_path):
    """Start the incident service and the sync against ``fake``."""
    (tmp_path / "policy.yaml").write_text(POLICY)
    (tmp_path / "mapping.yaml").write_text(MAPPING)

    async def start(fake: FakeServiceNow, *, incidents: bool = True, sync: bool = True,
                    **overrides):
        if incidents:
            await start_service(build_incidents, IncidentSettings,
                                service_catalog=CONFIG / "service-catalog.yaml",
                                policy=tmp_path / "policy.yaml")
        if not sync:
            return None
        settings = {"servicenow_url": fake.url, "servicenow_user": USER,
                    "servicenow_password": PASSWORD,
                    "servicenow_mapping": tmp_path / "mapping.yaml",
                    "servicenow_poll_seconds": 0.2, "servicenow_push_delay_seconds": 0.05,
                    "policy": tmp_path / "policy.yaml", **overrides}
        return await start_service(build_sync, SyncSettings, **settings)
    return start


async def create(nc, title: str, *, service: str = "checkout", impact: int = 1,
                 urgency: int = 2, **more) -> IncidentView:
    return await request(nc, CreateIncident(title=title, service=service, impact=impact,
                                            urgency=urgency, actor=ADMIN, **more),
                         IncidentView)


async def incident(nc, incident_id: str) -> IncidentView:
    return await request(nc, GetIncident(incident_id=incident_id, actor=ADMIN), IncidentView)


async def record_of(fake: FakeServiceNow, incident_id: str, **check) -> dict:
    def probe():
        found = [r for r in fake.incidents() if r.get("correlation_id") == incident_id]
        assert len(found) <= 1, f"{len(found)} records for {incident_id}"
        return found[0] if found else None
    return await wait_for(probe, check=lambda r: r is not None and all(
        r.get(k) == v for k, v in check.items()))


async def settled(fake: FakeServiceNow, seconds: float = 1.2) -> int:
    """The writes the sync made once none comes for ``seconds`` (six polls)."""
    while True:
        before = len(fake.requests) - sum(1 for m, *_ in fake.requests if m == "GET")
        await asyncio.sleep(seconds)
        after = len(fake.requests) - sum(1 for m, *_ in fake.requests if m == "GET")
        if after == before:
            return after


async def test_an_incident_goes_to_servicenow_and_changes_come_back_once(
        nc, servicenow, stack, database_url):
    await stack(servicenow, database_url=database_url)
    opened = await create(nc, "Checkout fails for card payments", caller="ana.lima")
    record = await record_of(servicenow, opened.incident_id)
    assert record["short_description"] == "Checkout fails for card payments"
    assert (record["impact"], record["urgency"], record["priority"]) == ("1", "2", "2")
    assert record["state"] == "1"
    assert record["assignment_group"] == "Payments Support"
    assert record["caller_id"] == "ana.lima"
    assert record["correlation_display"] == "ReasonOps"
    [note] = servicenow.notes(record["sys_id"])
    assert note["value"].startswith(f"[ReasonOps {opened.incident_id} #1-")
    assert "opened by hand for ana.lima" in note["value"]
    sys_id = record["sys_id"]

    # ReasonOps -> ServiceNow: acknowledged is In Progress, with a work note.
    await request(nc, AcknowledgeIncident(incident_id=opened.incident_id, actor=ADMIN,
                                          note="on it"), IncidentView)
    await record_of(servicenow, opened.incident_id, state="2")
    assert "new -> acknowledged: on it" in servicenow.notes(sys_id)[-1]["value"]
    writes = await settled(servicenow)

    # ServiceNow -> ReasonOps: a person reassigns and writes a work note.
    servicenow.update_as("beth.anglin", sys_id, {"assignment_group": "Identity",
                                                 "work_notes": "DB team says it's auth"})
    back = await wait_for(lambda: incident(nc, opened.incident_id),
                          check=lambda v: v.assignment_group == "identity" and any(
                              "ServiceNow work note by beth.anglin: DB team says it's auth"
                              in e.detail for e in v.timeline))
    assert any(e.kind == "assigned" and e.actor == "service:servicenow" for e in back.timeline)
    # ... and nothing goes back: the sync's own changes find ServiceNow holding them.
    assert await settled(servicenow) == writes
    mod_count = servicenow.tables["incident"][sys_id]["sys_mod_count"]

    # ServiceNow resolves it: ReasonOps resolves with the resolution notes; no echo.
    servicenow.update_as("beth.anglin", sys_id, {
        "state": "6", "close_code": "Solution provided", "close_notes": "token cache flushed"})
    resolved = await wait_for(lambda: incident(nc, opened.incident_id),
                              check=lambda v: v.state == "resolved")
    assert resolved.note == "token cache flushed"
    assert await settled(servicenow) == writes
    assert servicenow.tables["incident"][sys_id]["sys_mod_count"] == mod_count + 1

    applied = [e.data for e in await wait_for(lambda: stream_messages(
        nc, "SERVICENOW", "itsm.servicenow.update.applied"), check=lambda f: len(f) >= 2)]
    assert [a["changes"] for a in applied] == [
        ["assignment_group Payments Support -> Identity", "work note by beth.anglin"],
        ["state 2 -> 6"]]
    assert {a["updated_by"] for a in applied} == {"beth.anglin"}
    [created] = await wait_for(lambda: stream_messages(
        nc, "SERVICENOW", "itsm.servicenow.record.created"), check=bool)
    assert created.data["number"] == record["number"]
    assert not created.data["adopted"]


async def test_a_change_in_servicenow_racing_one_in_reasonops_keeps_both(
        nc, servicenow, stack):
    """Beth reassigns in ServiceNow just before ReasonOps' acknowledgement is written: the
    write's answer shows her change, which is applied; neither side loses one."""
    await stack(servicenow, servicenow_poll_seconds=3600)
    opened = await create(nc, "Login slow")
    record = await record_of(servicenow, opened.incident_id)
    servicenow.update_as("beth.anglin", record["sys_id"], {"assignment_group": "Identity"})
    await request(nc, AcknowledgeIncident(incident_id=opened.incident_id, actor=ADMIN),
                  IncidentView)
    await record_of(servicenow, opened.incident_id, state="2", assignment_group="Identity")
    view = await wait_for(lambda: incident(nc, opened.incident_id),
                          check=lambda v: v.assignment_group == "identity")
    assert view.state == "acknowledged"
    await settled(servicenow, 0.5)
    assert servicenow.writes("PATCH") == 1  # the acknowledgement; the group not sent back


async def test_a_lost_answer_and_a_restart_mid_sync_make_one_record_each(
        nc, servicenow, stack, database_url):
    sync = await stack(servicenow, database_url=database_url)
    # ServiceNow creates the record, but its answer is lost (502).
    servicenow.lose_next = 1
    first = await create(nc, "Payments API 5xx")
    await wait_for(lambda: servicenow.incidents(), check=lambda r: len(r) == 1)
    linked = await wait_for(lambda: request(nc, GetServiceNowStatus(
        incident_id=first.incident_id, actor=ADMIN), ServiceNowStatus),
        check=lambda s: s.link and s.link.sys_id, timeout=20)
    assert linked.link.sys_id == servicenow.incidents()[0]["sys_id"]
    [created] = await wait_for(lambda: stream_messages(
        nc, "SERVICENOW", "itsm.servicenow.record.created"), check=bool)
    assert created.data["adopted"]
    assert len(servicenow.notes(linked.link.sys_id)) == 1  # its work note: once

    # A burst of incidents, the sync stopped in the middle of it and started again.
    burst = [await create(nc, f"Checkout step {i} failing") for i in range(12)]
    await wait_for(lambda: servicenow.incidents(), check=lambda r: len(r) >= 4)
    await sync.stop()
    more = [await create(nc, f"Checkout retry {i} failing") for i in range(4)]
    await stack(servicenow, incidents=False, database_url=database_url)
    for opened in [first, *burst, *more]:
        record = await record_of(servicenow, opened.incident_id)
        assert len(servicenow.notes(record["sys_id"])) == 1, opened.incident_id
    assert len(servicenow.incidents()) == 17


async def test_a_429_storm_is_absorbed(nc, servicenow, stack, database_url):
    """OAuth client credentials; ServiceNow refuses 40 requests in a row with 429: every
    incident still gets exactly one record, later."""
    await stack(servicenow, database_url=database_url, servicenow_user=None,
                servicenow_password=None,
                servicenow_client_id=CLIENT_ID, servicenow_client_secret=CLIENT_SECRET)
    servicenow.limited, servicenow.retry_after = 40, "0.2"
    opened = [await create(nc, f"Card network timeouts {i}") for i in range(6)]
    for view in opened:
        await record_of(servicenow, view.incident_id, assignment_group="Payments Support")
    assert servicenow.limited == 0
    assert len(servicenow.incidents()) == 6
    assert {user for *_, user in servicenow.requests if user != "-"} == {"oauth.012345"}


async def test_a_mapping_error_names_the_field_and_the_record(nc, servicenow, stack):
    await stack(servicenow)
    # dba has no ServiceNow group in the mapping: the record goes without one.
    opened = await create(nc, "Replica lag", service="payments-db")
    record = await record_of(servicenow, opened.incident_id)
    assert "assignment_group" not in record
    status = await wait_for(lambda: request(nc, GetServiceNowStatus(
        incident_id=opened.incident_id, actor=ADMIN), ServiceNowStatus),
        check=lambda s: s.link and s.link.failure)
    assert status.link.failed_field == "assignment_group"
    assert "no ServiceNow value for assignment_group 'dba'" in status.link.failure
    [failed] = [e.data for e in await wait_for(lambda: stream_messages(
        nc, "SERVICENOW", "itsm.servicenow.sync.failed"), check=bool)
        if e.data["incident_id"] == opened.incident_id]
    assert failed["field"] == "assignment_group"

    # ServiceNow's ACL refuses the urgency field: refused, kept, reported with the field.
    servicenow.forbidden = {"urgency"}
    refused = await create(nc, "Auth token errors", service="auth", urgency=1)
    status = await wait_for(lambda: request(nc, GetServiceNowStatus(
        incident_id=refused.incident_id, actor=ADMIN), ServiceNowStatus),
        check=lambda s: s.link and s.link.failure)
    assert status.link.failed_field == "urgency"
    assert status.link.sys_id is None
    assert "403" in status.link.failure
    assert "security constraints" in status.link.failure
    overall = await request(nc, GetServiceNowStatus(actor=ADMIN), ServiceNowStatus)
    assert overall.configured
    assert overall.auth == "basic"
    assert overall.failing == 2
    assert {f.incident_id for f in overall.failures} == {opened.incident_id,
                                                         refused.incident_id}
    # Fixed on ServiceNow's side, a resync creates it.
    servicenow.forbidden = set()
    done = await request(nc, ResyncServiceNow(incident_ids=[refused.incident_id],
                                              actor=ADMIN), ResyncResult)
    assert done.items[0].sys_id
    assert done.items[0].failure is None
    assert (await record_of(servicenow, refused.incident_id))["urgency"] == "1"


async def test_only_chosen_incidents_are_synced_unless_forced(nc, servicenow, stack):
    await stack(servicenow)
    low = await create(nc, "Search results stale", service="search", impact=3, urgency=3)
    high = await create(nc, "Checkout down", impact=1, urgency=1)
    await record_of(servicenow, high.incident_id)
    await settled(servicenow, 0.5)
    assert len(servicenow.incidents()) == 1
    with pytest.raises(ReplyError, match="no rule of the mapping chooses it"):
        await request(nc, ResyncServiceNow(incident_ids=[low.incident_id], actor=ADMIN),
                      ResyncResult)
    forced = await request(nc, ResyncServiceNow(incident_ids=[low.incident_id], force=True,
                                                actor=ADMIN), ResyncResult)
    assert forced.items[0].number == (await record_of(servicenow, low.incident_id))["number"]


async def test_the_api_and_the_cli_show_resync_and_take_servicenows_call(
        nc, nats_url, servicenow, stack, start_service, tmp_path, browser):
    """/api/servicenow and ``reasonops servicenow``: status, an incident's record, a
    resync; the inbound endpoint reads a changed record at once (the poll is an hour
    away); a responder may read but not resync, and a bad sys_id changes nothing."""
    (tmp_path / "policy.yaml").write_text(POLICY + "  user:tests: [admin]\n")
    await stack(servicenow, servicenow_poll_seconds=3600)
    gateway = await start_service(build_gateway, GatewaySettings,
                                  policy=tmp_path / "policy.yaml",
                                  service_catalog=CONFIG / "service-catalog.yaml")
    opened = await create(nc, "Checkout fails for card payments")
    record = await record_of(servicenow, opened.incident_id)
    headers = {"Authorization": f"Bearer {await issue_token(nc, ADMIN)}"}
    olga = {"Authorization": f"Bearer {await issue_token(nc, 'user:olga')}"}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{gateway.port}",
                                 timeout=10) as api:
        status = (await api.get("/api/servicenow", headers=headers)).json()
        assert status["configured"]
        assert status["linked"] == 1
        assert status["rules"] == ["P1/P2"]
        link = (await api.get(f"/api/servicenow/incidents/{opened.incident_id}",
                              headers=olga)).json()
        assert link["number"] == record["number"]
        assert link["remote"]["state"] == "1"

        servicenow.update_as("beth.anglin", record["sys_id"], {"state": "2"})
        bad = await api.post("/api/servicenow/inbound", headers=headers,
                             json={"sys_id": "not-a-sys-id"})
        assert bad.status_code == 422
        assert bad.json()["field"] == "body.sys_id"
        told = await api.post("/api/servicenow/inbound", headers=headers, json={
            "sys_id": record["sys_id"], "number": record["number"], "state": "2"})
        assert told.status_code == 202, told.text
        await wait_for(lambda: incident(nc, opened.incident_id),
                       check=lambda v: v.state == "acknowledged")

        refused = await api.post("/api/servicenow/resync", headers=olga,
                                 json={"incident_ids": [opened.incident_id]})
        assert refused.status_code == 403
        done = await api.post("/api/servicenow/resync", headers=headers,
                              json={"incident_ids": [opened.incident_id]})
        assert done.status_code == 200
        assert done.json()["items"][0]["sys_id"] == record["sys_id"]

    # The same through the SDK.
    from reasonops_sdk import AsyncReasonOpsClient
    from reasonops_sdk.errors import ApiError

    url = f"http://127.0.0.1:{gateway.port}"
    async with AsyncReasonOpsClient(url, headers["Authorization"].split()[1]) as sdk:
        assert (await sdk.servicenow_status()).linked == 1
        assert (await sdk.servicenow_record(opened.incident_id)).number == record["number"]
        again = await sdk.servicenow_resync([opened.incident_id])
        assert again.items[0].sys_id == record["sys_id"]
    async with AsyncReasonOpsClient(url, olga["Authorization"].split()[1]) as sdk:
        with pytest.raises(ApiError) as refused_by_sdk:
            await sdk.servicenow_resync([opened.incident_id])
        assert refused_by_sdk.value.status == 403

    # The incident's page names its ServiceNow record.
    from tests.integration.test_console import logged_in

    page = await logged_in(browser, url, headers["Authorization"].split()[1])
    await page.goto(f"{url}/incidents/{opened.incident_id}")
    assert await page.text_content("[data-testid=servicenow]") == record["number"]

    code, out, err = await cli(nats_url, "servicenow", "status")
    assert code == 0, err
    assert "1 record(s) linked, 0 push(es) waiting, 0 failing." in out
    code, out, err = await cli(nats_url, "servicenow", "status", opened.incident_id)
    assert code == 0
    assert record["number"] in out
    assert "state: 2" in out
    code, out, err = await cli(nats_url, "servicenow", "resync", "INC12")
    assert code != 0
    assert "incident_ids.0" in err
    code, out, err = await cli(nats_url, "servicenow", "resync", opened.incident_id)
    assert code == 0
    assert record["number"] in out


def spawn_sync(nats_url: str, data_dir, fake: FakeServiceNow, mapping, policy):
    env = dict(os.environ, REASONOPS_NATS_URL=nats_url, REASONOPS_DATA_DIR=str(data_dir),
               REASONOPS_HTTP_PORT=str(free_port()), REASONOPS_FETCH_TIMEOUT="0.1",
               REASONOPS_OUTBOX_POLL_SECONDS="0.1", REASONOPS_TIMER_POLL_SECONDS="0.05",
               REASONOPS_SERVICENOW_URL=fake.url, REASONOPS_SERVICENOW_USER=USER,
               REASONOPS_SERVICENOW_PASSWORD=PASSWORD,
               REASONOPS_SERVICENOW_MAPPING=str(mapping), REASONOPS_POLICY=str(policy),
               REASONOPS_SERVICENOW_PUSH_DELAY_SECONDS="0.05",
               REASONOPS_SERVICENOW_LEASE_SECONDS="2")
    with open(data_dir.parent / "servicenow.log", "ab") as log:
        return subprocess.Popen([sys.executable, "-m", "reasonops_cli", "run", "servicenow"],
                                env=env, stdout=subprocess.DEVNULL, stderr=log)


async def test_sigkill_between_servicenows_answer_and_the_record_makes_no_second_record(
        nc, nats_url, servicenow, stack, tmp_path):
    """The sync dies while ServiceNow answers a create (the record is made, the answer
    never arrives): started again, it finds the record by correlation_id and takes it
    over; every incident has one record and one first work note."""
    await stack(servicenow, sync=False)
    servicenow.hold = asyncio.Event()
    data = tmp_path / "sync"
    data.mkdir()
    proc = spawn_sync(nats_url, data, servicenow, tmp_path / "mapping.yaml",
                      tmp_path / "policy.yaml")
    try:
        opened = [await create(nc, f"Card payments failing {i}") for i in range(6)]
        await asyncio.wait_for(servicenow.holding.wait(), 60)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        # Every create sent before the kill made its record, and its answer never came
        # (the sync may have sent the next incident's while the first was held). One sent
        # just before the kill may still wait in the fake's socket: the fake handles what
        # reached it before the records are counted (they stay the same for 0.5 s).
        held, unchanged = servicenow.incidents(), 0
        while unchanged < 5:
            await asyncio.sleep(0.1)
            now = servicenow.incidents()
            unchanged = unchanged + 1 if len(now) == len(held) else 0
            held = now
        assert held
        servicenow.hold.set()
        proc = spawn_sync(nats_url, data, servicenow, tmp_path / "mapping.yaml",
                          tmp_path / "policy.yaml")
        # The held records exist already: wait until the new process has taken each over
        # (its claim's lease ran out first), not only until it is there.
        for record in held:
            taken = await wait_for(lambda r=record: request(nc, GetServiceNowStatus(
                incident_id=r["correlation_id"], actor=ADMIN), ServiceNowStatus),
                check=lambda s: s.link and s.link.sys_id, timeout=30)
            assert taken.link.sys_id == record["sys_id"]
        for view in opened:
            record = await record_of(servicenow, view.incident_id)
            assert len(servicenow.notes(record["sys_id"])) == 1, view.incident_id
        assert len(servicenow.incidents()) == 6
        created = await wait_for(lambda: stream_messages(
            nc, "SERVICENOW", "itsm.servicenow.record.created"),
            check=lambda found: len(found) == 6)
        adopted = [e.data for e in created if e.data["adopted"]]
        assert sorted(a["sys_id"] for a in adopted) == sorted(r["sys_id"] for r in held)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)


async def test_without_an_instance_incident_events_are_let_go_without_the_store(
        nc, start_service):
    """No ServiceNow configured: the sync reads its incident events and acks them, with
    no transaction and no inbox row for any (configured later, it starts from then)."""
    from datetime import UTC, datetime

    from sqlalchemy import func, select

    from reasonops_contracts import Envelope
    from reasonops_contracts.incidents import IncidentOpened
    from reasonops_runtime.store import inbox_table
    service = await start_service(build_sync, SyncSettings)
    js = nc.jetstream()
    for n in range(5):
        sent = Envelope.wrap(IncidentOpened(
            incident_id=f"INC{n:07d}", title="t", severity="warning", impact=2, urgency=2,
            priority=3, priority_reason="t", fingerprint=f"fp{n}",
            opened_at=datetime.now(UTC)), source="incidents", subject=f"INC{n:07d}")
        await js.publish(IncidentOpened.SUBJECT, sent.to_bytes(), headers=sent.headers())

    async def let_go() -> bool:
        info = await js.consumer_info("INCIDENTS", "servicenow-incidents")
        return (info.num_pending, info.num_ack_pending, info.delivered.stream_seq) == (0, 0, 5)

    await wait_for(let_go, timeout=10)
    ignored = service.registry.get_sample_value("reasonops_messages_total", {
        "service": "servicenow", "consumer": "servicenow-incidents", "outcome": "ignored"})
    assert ignored == 5
    async with service.store.read() as session:
        assert (await session.execute(select(func.count()).select_from(inbox_table))
                ).scalar_one() == 0
