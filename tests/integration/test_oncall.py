"""On call through the real service, gateway and nats-server: who is on call for a
schedule and a service (across a DST change), turns, gaps and the iCalendar feed, an
override made and removed (on record, and only by whom the policy lets), the file
reloaded when it changes and a wrong one refused with the previous one kept; the CLI
reads the same."""

from __future__ import annotations

import json

import httpx
import pytest

from reasonops_contracts.oncall import OverrideCreated, OverrideRemoved
from reasonops_gateway.app import GatewaySettings
from reasonops_gateway.app import build_service as build_gateway
from reasonops_oncall.app import OnCallSettings
from reasonops_oncall.app import build_service as build_oncall
from tests.integration.conftest import CONFIG, POLICY
from tests.support import cli, issue_token, stream_messages, wait_for

pytestmark = pytest.mark.nats

ONCALL = """\
users:
  ana: {name: Ana Silva, time_zone: Europe/Lisbon, contacts: [{kind: sms, address: "+35190"}]}
  bo: {name: Bo Berg, time_zone: Europe/Berlin, contacts: [{kind: email, address: bo@x.io}]}
  cy: {name: Cy Chen, time_zone: America/New_York}
teams:
  payments: {members: [ana, bo, cy]}
schedules:
  payments-primary:
    team: payments
    time_zone: Europe/Berlin
    layers:
      - name: days
        rotation: weekly
        start: 2027-03-15T09:00
        users: [ana, bo]
        restrict: {days: [mon, tue, wed, thu, fri], hours: "09:00-17:00"}
      - name: nights
        rotation: daily
        start: 2027-03-15T17:00
        users: [bo, ana]
        restrict: {days: [mon, tue, wed, thu, fri], hours: "17:00-09:00"}
"""


@pytest.fixture
async def stack(nc, start_service, tmp_path):
    (tmp_path / "policy.yaml").write_text(POLICY + "  user:tests: [admin]\n")  # the CLI
    (tmp_path / "oncall.yaml").write_text(ONCALL)
    shared = {"policy": tmp_path / "policy.yaml",
              "service_catalog": CONFIG / "service-catalog.yaml"}
    await start_service(build_oncall, OnCallSettings, oncall=tmp_path / "oncall.yaml",
                        **shared)
    gateway = await start_service(build_gateway, GatewaySettings, rate_limit_burst=1000,
                                  rate_limit_per_second=1000, **shared)
    return {"url": f"http://127.0.0.1:{gateway.port}", "file": tmp_path / "oncall.yaml",
            "admin": await issue_token(nc, "user:admin"),
            "olga": await issue_token(nc, "user:olga")}


def api(stack, who: str = "admin") -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=stack["url"], timeout=10,
                             headers={"Authorization": f"Bearer {stack[who]}"})


async def test_who_is_on_call_across_the_dst_change_and_for_a_service(stack):
    async with api(stack) as admin:
        # Friday 26 March 2027, 10:00 in Berlin (CET): week 2 of the day layer, bo.
        before = (await admin.get("/api/oncall/schedules/payments-primary/now",
                                  params={"at": "2027-03-26T09:00:00Z"})).json()
        # Summer time from Sunday 28 March: Monday 09:00 in Berlin is 07:00 UTC.
        after = (await admin.get("/api/oncall/schedules/payments-primary/now",
                                 params={"at": "2027-03-29T07:00:00Z"})).json()
        early = (await admin.get("/api/oncall/schedules/payments-primary/now",
                                 params={"at": "2027-03-29T06:59:00Z"})).json()
        service = (await admin.get("/api/oncall/services/checkout/now",  # owner: payments
                                   params={"at": "2027-03-26T09:00:00Z"})).json()
        unknown = await admin.get("/api/oncall/services/nothing-here/now")
        shifts = (await admin.get("/api/oncall/schedules/payments-primary/shifts", params={
            "start": "2027-03-26T00:00:00Z", "end": "2027-03-30T00:00:00Z"})).json()
        ics = await admin.get("/api/oncall/schedules/payments-primary/calendar.ics", params={
            "start": "2027-03-26T00:00:00Z", "end": "2027-03-30T00:00:00Z"})
        bad = await admin.get("/api/oncall/schedules/payments-primary/shifts", params={
            "start": "2027-03-26T00:00:00Z", "end": "2027-09-30T00:00:00Z"})
    assert (before["person"]["user"], before["layer"]) == ("bo", "days")
    # Friday 09:00 to 17:00 in Berlin, in UTC.
    assert (before["since"], before["until"]) == ("2027-03-26T08:00:00Z", "2027-03-26T16:00:00Z")
    assert before["person"]["contacts"] == [{"kind": "email", "address": "bo@x.io"}]
    assert (after["person"]["user"], after["layer"]) == ("ana", "days")  # week 3
    assert early["person"] is None  # Monday before 09:00 is still the weekend: a gap
    assert service["schedule"] == "payments-primary"
    assert service["person"]["user"] == "bo"
    assert unknown.status_code == 404
    assert [(g["start"], g["end"]) for g in shifts["gaps"]] == [
        ("2027-03-27T08:00:00Z", "2027-03-29T07:00:00Z")]
    assert ics.headers["content-type"].startswith("text/calendar")
    assert ics.text.startswith("BEGIN:VCALENDAR\r\n")
    assert "DTSTART:20270329T070000Z\r\n" in ics.text
    assert "DTSTART:20270325T160000Z\r\n" in ics.text  # the whole turn the window cuts
    assert "SUMMARY:On call: Ana Silva (payments-primary)" in ics.text
    assert bad.status_code == 422
    assert "92 days" in bad.json()["detail"]


async def test_an_override_takes_the_time_and_is_on_record(stack, nc, nats_url):
    body = {"user": "cy", "start": "2027-03-24T20:00:00+01:00",
            "end": "2027-03-25T08:00:00+01:00", "reason": "swap with bo"}
    async with api(stack, "olga") as olga:
        refused = await olga.post("/api/oncall/schedules/payments-primary/overrides",
                                  json=body)
        seen = (await olga.get("/api/oncall/schedules")).json()  # her team's: she may read
    assert refused.status_code == 403
    assert [s["name"] for s in seen["items"]] == ["payments-primary"]
    async with api(stack) as admin:
        made = await admin.post("/api/oncall/schedules/payments-primary/overrides", json=body)
        assert made.status_code == 201, made.text
        override_id = made.json()["override_id"]
        during = (await admin.get("/api/oncall/schedules/payments-primary/now",
                                  params={"at": "2027-03-24T22:00:00Z"})).json()
        nobody = await admin.post("/api/oncall/schedules/payments-primary/overrides",
                                  json={**body, "user": "zed"})
        backwards = await admin.post("/api/oncall/schedules/payments-primary/overrides",
                                     json={**body, "end": "2027-03-23T08:00:00+01:00"})
        code, out, err = await cli(nats_url, "oncall", "who", "payments-primary", "--at",
                                 "2027-03-24T22:00:00Z", "--json")
        removed = await admin.delete(f"/api/oncall/overrides/{override_id}")
        again = await admin.delete(f"/api/oncall/overrides/{override_id}")
        after = (await admin.get("/api/oncall/schedules/payments-primary/now",
                                 params={"at": "2027-03-24T22:00:00Z"})).json()
    assert (during["person"]["user"], during["layer"]) == ("cy", "override")
    assert (nobody.status_code, nobody.json()["field"]) == (422, "body.user")
    assert (backwards.status_code, backwards.json()["field"]) == (422, "body.end")
    assert code == 0, err
    assert json.loads(out)["person"]["user"] == "cy"
    assert removed.status_code == 200
    assert again.status_code == 404
    assert after["layer"] == "nights"
    created = await stream_messages(nc, "ONCALL", OverrideCreated.SUBJECT)
    gone = await stream_messages(nc, "ONCALL", OverrideRemoved.SUBJECT)
    assert [e.data["override"]["created_by"] for e in created] == ["user:admin"]
    assert [e.data["removed_by"] for e in gone] == ["user:admin"]


async def test_the_file_is_reloaded_and_a_wrong_one_leaves_the_last_in_force(stack):
    file = stack["file"]
    async with api(stack) as admin:
        async def schedules() -> dict:
            return (await admin.get("/api/oncall/schedules")).json()
        file.write_text(ONCALL.replace("users: [ana, bo]\n", "users: [ana, zed]\n"))
        refused = await wait_for(schedules, check=lambda r: r["error"])
        assert "oncall.yaml:" in refused["error"]
        assert "unknown user 'zed'" in refused["error"]
        assert refused["items"][0]["layers"][0]["users"] == ["ana", "bo"]  # still in force
        file.write_text(ONCALL.replace("users: [ana, bo]\n", "users: [cy, ana]\n"))
        changed = await wait_for(schedules, check=lambda r: not r["error"] and
                                 r["items"][0]["layers"][0]["users"] == ["cy", "ana"])
    assert changed["loaded_at"]


GUIDE = CONFIG.parents[1] / "docs" / "guides" / "on-call.md"


async def test_the_guide_runs_as_written(nc, start_service, nats_url, tmp_path):
    """docs/guides/on-call.md's commands against the example file."""
    import re
    import shlex

    (tmp_path / "policy.yaml").write_text(POLICY + "  user:tests: [admin]\n")
    await start_service(build_oncall, OnCallSettings, oncall=CONFIG / "oncall.yaml",
                        policy=tmp_path / "policy.yaml")
    (block,) = [b for b in re.findall(r"^```sh\n(.*?)^```", GUIDE.read_text(),
                                      flags=re.S | re.M)]
    outputs = []
    for line in block.splitlines():
        words = shlex.split(line.split(" > ")[0])
        assert words[0] == "reasonops"
        code, out, err = await cli(nats_url, *words[1:])
        assert code == 0, (line, err)
        outputs.append(out)
    assert "payments-primary" in outputs[0]
    assert "Europe/Berlin" in outputs[0]
    assert outputs[2].startswith("payments-primary: ")
    assert "gap(s) from 2026-12-01" in outputs[3]
    assert outputs[4].startswith("BEGIN:VCALENDAR")
    assert "OVR0000001: cy on call for payments-primary" in outputs[5]
    assert "Removed OVR0000001" in outputs[6]
