"""A night on call through the real incidents and on-call services on a real
nats-server, with a local server speaking Twilio's REST API: an incident at 02:00 pages
the person on the night rotation by SMS, then by voice after five minutes; nobody
answers, so after ten minutes the second level pages the next person, whose first SMS
the provider refuses for a second (429) and then takes; that person acknowledges from the link in
the SMS (as themselves, once: a second use and a forged link are refused, the forged one
on record), and nobody is paged again. A restart of the on-call service between the levels neither
loses nor repeats a page."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import time
from datetime import datetime, timedelta
from urllib.parse import quote

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from reasonops_client.trail import collect_trail
from reasonops_contracts import Envelope
from reasonops_contracts.incidents import (
    CreateSilence,
    DeclareMajorIncident,
    GetCoveringSilence,
    GetIncident,
    IncidentList,
    IncidentOpened,
    IncidentView,
    ListIncidents,
    SilenceView,
)
from reasonops_contracts.oncall import (
    IncidentPaged,
    NotificationSent,
    PageDeferred,
    PagingStopped,
)
from reasonops_contracts.policy import AccessDenied
from reasonops_gateway.app import GatewaySettings
from reasonops_gateway.app import build_service as build_gateway
from reasonops_incidents.app import IncidentSettings
from reasonops_incidents.app import build_service as build_incidents
from reasonops_oncall.app import OnCallSettings
from reasonops_oncall.app import build_service as build_oncall
from reasonops_runtime import FrozenClock
from reasonops_runtime.client import request
from reasonops_runtime.http import HttpServer
from tests.integration.conftest import CONFIG, POLICY
from tests.integration.test_oncall import ONCALL
from tests.support import accepted, publish_all, stream_messages, wait_for

pytestmark = pytest.mark.nats

SID, TOKEN = "AC0123456789abcdef0123456789abcdef", "twilio-test-token"
PAGING = ONCALL.replace(
    '  bo: {name: Bo Berg, time_zone: Europe/Berlin, contacts: [{kind: email, address: bo@x.io}]}',
    '  bo:\n    name: Bo Berg\n    time_zone: Europe/Berlin\n'
    '    contacts: [{kind: sms, address: "+4915100000002"}, {kind: voice, address: '
    '"+4915100000002"}]\n'
    '    notify: {high: [{contact: sms}, {contact: voice, after: 5m}]}').replace(
    '  cy: {name: Cy Chen, time_zone: America/New_York}',
    '  cy: {name: Cy Chen, time_zone: America/New_York, contacts: [{kind: sms, address: '
    '"+12125550103"}]}\n'
    '  dee: {name: Dee Okafor, time_zone: Europe/London, contacts: [{kind: sms, address: '
    '"+447700900004"}]}').replace(
    "  payments: {members: [ana, bo, cy]}\n",
    "  payments: {members: [ana, bo, cy]}\n  dba: {members: [dee]}\n").replace(
    "        users: [bo, ana]\n", "        users: [ana, bo]\n") + """\
    overrides:          # the rotation gives ana Monday night; bo takes it
      - {user: bo, start: 2027-03-29T22:00, end: 2027-03-30T08:00, reason: swapped with ana}
  dba:
    team: dba
    time_zone: Europe/London
    layers:
      - {name: always, rotation: weekly, start: 2027-03-01T09:00, users: [dee]}
escalation_policies:
  payments:
    team: payments
    levels:
      - {after: 0s, notify: [{schedule: payments-primary}]}
      - {after: 10m, notify: [{user: cy}]}
  dba:
    services: [payments-db]
    levels:
      - {after: 0s, notify: [{schedule: dba}]}
"""


class FakeTwilio:
    """``POST /2010-04-01/Accounts/{sid}/Messages.json`` and ``Calls.json``, form
    encoded, HTTP basic auth with the account SID and token; ``refuse`` numbers get one
    429 with ``Retry-After: 1`` first."""

    def __init__(self, refuse: set[str] | None = None) -> None:
        self.sent: list[tuple[str, dict[str, str]]] = []
        self.refuse = set(refuse or ())
        self.server = HttpServer(Starlette(routes=[
            Route("/2010-04-01/Accounts/{sid}/{resource}", self.create, methods=["POST"])]),
            "127.0.0.1", 0)
        self.port = 0

    async def start(self) -> FakeTwilio:
        self.port = self.server.bind()
        await self.server.start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def create(self, request: Request) -> JSONResponse:
        expected = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
        if request.headers.get("authorization") != expected or \
                request.path_params["sid"] != SID:
            return JSONResponse({"code": 20003, "message": "Authenticate"}, status_code=401)
        form = {k: str(v) for k, v in (await request.form()).items()}
        if not form.get("To") or not form.get("From"):
            return JSONResponse({"code": 21604, "message": "'To' is required"}, 400)
        if form["To"] in self.refuse:
            self.refuse.discard(form["To"])
            return JSONResponse({"code": 20429, "message": "Too Many Requests"}, 429,
                                headers={"Retry-After": "1"})
        self.sent.append((request.path_params["resource"], form))
        return JSONResponse({"sid": f"SM{len(self.sent):032d}", "status": "queued"}, 201)

    def to(self, number: str, resource: str) -> list[dict[str, str]]:
        return [f for r, f in self.sent if r == resource and f["To"] == number]


async def test_a_night_on_call(nc, start_service, tmp_path):
    twilio = await FakeTwilio(refuse={"+12125550103"}).start()
    (tmp_path / "oncall.yaml").write_text(PAGING)
    # Tuesday 30 March 2027, 02:00 in Berlin (summer time since Sunday): ana's night by
    # the rotation (its hand-offs counted on Berlin's wall clock from 15 March, across the
    # change), bo's by the override; dee, of the other team, is never paged.
    clock = FrozenClock(datetime.fromisoformat("2027-03-30T00:00:00+00:00"))
    settings = {"oncall": tmp_path / "oncall.yaml",
                "service_catalog": CONFIG / "service-catalog.yaml", "twilio_url": twilio.url,
                "twilio_account_sid": SID, "twilio_auth_token": TOKEN,
                "twilio_from": "+15005550006"}
    (tmp_path / "policy.yaml").write_text(
        POLICY + "  user:cy: [responder]\n  user:tests: [admin]\n")
    await start_service(build_incidents, IncidentSettings, clock=clock,
                        service_catalog=CONFIG / "service-catalog.yaml",
                        policy=tmp_path / "policy.yaml")
    gateway = await start_service(build_gateway, GatewaySettings)
    settings["public_url"] = f"http://127.0.0.1:{gateway.port}"
    oncall = await start_service(build_oncall, OnCallSettings, clock=clock, **settings)
    await publish_all(nc, [accepted("night", service="checkout")])
    [incident] = (await wait_for(lambda: request(nc, ListIncidents(), IncidentList),
                                 check=lambda r: r.total == 1)).items

    async def events(model):
        return [e.data for e in await stream_messages(nc, "ONCALL", model.SUBJECT)]

    await wait_for(lambda: events(NotificationSent), check=lambda e: len(e) == 1)
    assert [(p["level"], p["users"]) for p in await events(IncidentPaged)] == [(1, ["bo"])]
    [sms] = twilio.to("+4915100000002", "Messages.json")
    assert incident.incident_id in sms["Body"]
    assert sms["From"] == "+15005550006"
    assert not twilio.to("+4915100000002", "Calls.json")

    clock.advance(timedelta(minutes=5))  # bo's rule: a call five minutes on
    await wait_for(lambda: events(NotificationSent), check=lambda e: len(e) == 2)
    [call] = twilio.to("+4915100000002", "Calls.json")
    assert call["Twiml"].startswith("<Response><Say>")

    # The on-call service restarts while level 2 waits: it is paged once, on time.
    await oncall.stop()
    oncall = await start_service(build_oncall, OnCallSettings, clock=clock, **settings)
    clock.advance(timedelta(minutes=5))
    sent = await wait_for(lambda: events(NotificationSent), check=lambda e: len(e) == 3)
    assert (sent[2]["user"], sent[2]["outcome"]) == ("cy", "retrying")  # 429 first
    clock.advance(timedelta(seconds=2))  # its Retry-After
    sent = await wait_for(lambda: events(NotificationSent), check=lambda e: len(e) == 4)
    assert (sent[3]["user"], sent[3]["outcome"], sent[3]["attempt"]) == ("cy", "delivered", 2)
    assert len(twilio.to("+12125550103", "Messages.json")) == 1
    assert [(p["level"], p["users"]) for p in await events(IncidentPaged)] == [
        (1, ["bo"]), (2, ["cy"])]

    [sms_to_cy] = twilio.to("+12125550103", "Messages.json")
    link = re.search(r"(http://\S+/page/\S+)", sms_to_cy["Body"]).group(1)
    async with httpx.AsyncClient(timeout=10) as browser:
        shown = await browser.get(link)  # a GET only shows the choices
        assert shown.status_code == 200
        assert "As <strong>cy</strong>" in shown.text
        forged = await browser.post(link[:-3] + ("AAA" if link[-3:] != "AAA" else "BBB"),
                                    data={"action": "acknowledge"})
        acked = await browser.post(link, data={"action": "acknowledge"})
        again = await browser.post(link, data={"action": "resolve"})
    assert forged.status_code == 403
    assert "not a link ReasonOps sent" in forged.text
    assert acked.status_code == 200, acked.text
    assert "nobody else is paged" in acked.text
    assert again.status_code == 409
    assert "works once" in again.text
    view = await request(nc, GetIncident(incident_id=incident.incident_id), IncidentView)
    assert view.state == "acknowledged"
    assert [e.actor for e in view.timeline if e.kind == "state_changed"][-1] == "user:cy"
    denied = await stream_messages(nc, "POLICY", AccessDenied.SUBJECT)
    assert any(d.data["action"] == "oncall.acknowledge" for d in denied)
    [stopped] = await wait_for(lambda: events(PagingStopped), check=lambda e: len(e) == 1)
    assert stopped["reason"] == "acknowledged by user:cy"
    clock.advance(timedelta(hours=1))
    await asyncio.sleep(1.0)  # twenty polls of the timers: a page due would have gone
    assert len(twilio.sent) == 3  # bo's SMS and call, cy's SMS: nothing after
    assert not twilio.to("+447700900004", "Messages.json")  # dee: another team's
    assert len(await events(IncidentPaged)) == 2
    # The incident's timeline and trail have each page, each notification and who
    # stopped it.
    shown = await wait_for(
        lambda: request(nc, GetIncident(incident_id=incident.incident_id), IncidentView),
        check=lambda v: any("paging stopped" in e.detail for e in v.timeline))
    pages = [(e.actor, e.detail) for e in shown.timeline if e.kind == "paged"]
    assert ("oncall", "level 1 of payments paged bo") in pages
    assert ("oncall", "level 2 of payments paged cy") in pages
    assert ("oncall", "voice to bo: delivered (accepted as SM00000000000000000000000000000002)") \
        in pages
    assert ("oncall", "sms to cy: retrying (HTTP 429)") in pages
    assert ("user:cy", "acknowledge from the link in the page") in pages
    assert ("oncall", "paging stopped: acknowledged by user:cy") in pages
    trail = await wait_for(lambda: collect_trail(nc, incident.incident_id),
                           check=lambda t: PagingStopped.TYPE in [e.type for e in t])
    types = [e.type for e in trail]
    assert types.count(IncidentPaged.TYPE) == 2
    assert types.count(NotificationSent.TYPE) == 4
    said = [(e.actor, e.summary) for e in trail if e.type.startswith("itsm.oncall.")]
    assert ("oncall", "level 2 of payments paged cy") in said
    assert ("oncall", "sms to cy: retrying: HTTP 429") in said
    assert ("user:cy", "acknowledge from the link in the page") in said
    await twilio.server.stop()


SLACK_FILE = """\
users:
  ana: {name: Ana Silva, contacts: [{kind: slack, address: U0ANA}]}
teams:
  payments: {members: [ana]}
schedules:
  payments-primary:
    team: payments
    layers:
      - {name: always, rotation: weekly, start: 2026-01-05T09:00, users: [ana]}
services:
  checkout: payments-primary
escalation_policies:
  payments:
    team: payments
    levels:
      - {after: 0s, notify: [{schedule: payments-primary}]}
"""
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-test-bot"


class FakeSlack:
    """``POST /api/chat.postMessage`` with a bot token, answering as Slack does."""

    def __init__(self) -> None:
        self.posted: list[dict] = []
        self.server = HttpServer(Starlette(routes=[
            Route("/api/chat.postMessage", self.post, methods=["POST"])]), "127.0.0.1", 0)

    async def post(self, request: Request) -> JSONResponse:
        if request.headers.get("authorization") != f"Bearer {BOT_TOKEN}":
            return JSONResponse({"ok": False, "error": "invalid_auth"})
        body = await request.json()
        self.posted.append(body)
        return JSONResponse({"ok": True, "channel": "D0ANA", "ts": "1700000000.000100"})


def slack_request(secret: str, body: str, at: int | None = None) -> dict[str, str]:
    at = int(time.time()) if at is None else at
    signature = hmac.new(secret.encode(), f"v0:{at}:{body}".encode(), hashlib.sha256)
    return {"X-Slack-Request-Timestamp": str(at), "X-Slack-Signature":
            f"v0={signature.hexdigest()}",
            "Content-Type": "application/x-www-form-urlencoded"}


async def test_a_slack_button_acts_once_and_a_forged_or_replayed_one_is_refused(
        nc, start_service, tmp_path):
    slack = FakeSlack()
    port = slack.server.bind()
    await slack.server.start()
    (tmp_path / "oncall.yaml").write_text(SLACK_FILE)
    (tmp_path / "policy.yaml").write_text(
        POLICY + "  user:ana: [responder]\n  user:tests: [admin]\n")
    (tmp_path / "slack.secret").write_text(SIGNING_SECRET)
    await start_service(build_incidents, IncidentSettings, policy=tmp_path / "policy.yaml")
    gateway = await start_service(build_gateway, GatewaySettings,
                                  slack_signing_secret_file=tmp_path / "slack.secret")
    await start_service(build_oncall, OnCallSettings, oncall=tmp_path / "oncall.yaml",
                        slack_url=f"http://127.0.0.1:{port}/api", slack_bot_token=BOT_TOKEN,
                        public_url=f"http://127.0.0.1:{gateway.port}")
    await publish_all(nc, [accepted("slack", service="checkout")])
    await wait_for(lambda: slack.posted, check=bool)
    [posted] = slack.posted
    assert posted["channel"] == "U0ANA"
    buttons = posted["blocks"][1]["elements"]
    assert [b["action_id"] for b in buttons] == [
        "oncall_acknowledge", "oncall_resolve", "oncall_escalate"]
    payload = {"type": "block_actions", "user": {"id": "U0ANA", "username": "ana"},
               "actions": [buttons[0]]}
    body = "payload=" + quote(json.dumps(payload))
    url = f"http://127.0.0.1:{gateway.port}/slack/interactivity"
    async with httpx.AsyncClient(timeout=10) as client:
        acked = await client.post(url, content=body, headers=slack_request(SIGNING_SECRET, body))
        again = await client.post(url, content=body, headers=slack_request(SIGNING_SECRET, body))
        forged = await client.post(url, content=body, headers=slack_request("guessed", body))
        replayed = await client.post(url, content=body, headers=slack_request(
            SIGNING_SECRET, body, at=int(time.time()) - 3600))
    assert acked.status_code == 200
    assert "nobody else is paged" in acked.json()["text"]
    assert "works once" in again.json()["text"]
    assert (forged.status_code, replayed.status_code) == (401, 401)
    [incident] = (await request(nc, ListIncidents(), IncidentList)).items
    view = await request(nc, GetIncident(incident_id=incident.incident_id), IncidentView)
    assert view.state == "acknowledged"
    assert [e.actor for e in view.timeline if e.kind == "state_changed"][-1] == "user:ana"
    denied = await wait_for(lambda: stream_messages(nc, "POLICY", AccessDenied.SUBJECT),
                            check=lambda d: len([x for x in d if x.data["action"] ==
                                                 "oncall.slack"]) == 2)
    assert {x.data["reason"].split(" ")[0] for x in denied
            if x.data["action"] == "oncall.slack"} == {"no", "the"}
    await slack.server.stop()


async def test_a_major_incident_pages_the_commanders_and_tells_the_stakeholders(
        nc, start_service, tmp_path):
    slack = FakeSlack()
    port = slack.server.bind()
    await slack.server.start()
    (tmp_path / "oncall.yaml").write_text(SLACK_FILE + """\
major_incident:
  notify: [{user: ana}]
  announce: [{kind: slack, address: C0STAKEHOLDERS}]
""")
    (tmp_path / "policy.yaml").write_text(POLICY + "  user:tests: [admin]\n")
    await start_service(build_incidents, IncidentSettings, policy=tmp_path / "policy.yaml")
    await start_service(build_oncall, OnCallSettings, oncall=tmp_path / "oncall.yaml",
                        slack_url=f"http://127.0.0.1:{port}/api", slack_bot_token=BOT_TOKEN)
    await publish_all(nc, [accepted("major", service="checkout", severity="warning")])
    [incident] = (await wait_for(lambda: request(nc, ListIncidents(), IncidentList),
                                 check=lambda r: r.total == 1)).items
    await wait_for(lambda: slack.posted, check=lambda p: len(p) == 1)  # the policy: ana
    await request(nc, DeclareMajorIncident(incident_id=incident.incident_id,
                                           actor="user:tests", note="payments down"),
                  IncidentView)
    # ana, the commander, was paged by the policy already: only the stakeholders now.
    await wait_for(lambda: slack.posted, check=lambda p: len(p) == 2)
    await asyncio.sleep(0.5)
    by_channel = {p["channel"]: p for p in slack.posted}
    assert [p["channel"] for p in slack.posted] == ["U0ANA", "C0STAKEHOLDERS"]
    assert incident.incident_id in by_channel["C0STAKEHOLDERS"]["text"]
    assert "blocks" in by_channel["U0ANA"]
    assert "/page/" in by_channel["U0ANA"]["text"]  # the commander may act from it
    assert "/page/" not in by_channel["C0STAKEHOLDERS"]["text"]  # the channel may not
    paged = [e.data for e in await stream_messages(nc, "ONCALL", IncidentPaged.SUBJECT)]
    assert [(p["policy"], p["users"]) for p in paged] == [
        ("payments", ["ana"]), ("major-incident", [])]
    await slack.server.stop()


async def test_a_level_due_in_a_maintenance_window_waits_for_its_end(
        nc, start_service, tmp_path):
    twilio = await FakeTwilio().start()
    (tmp_path / "oncall.yaml").write_text(PAGING)
    (tmp_path / "policy.yaml").write_text(POLICY + "  user:tests: [admin]\n")
    clock = FrozenClock(datetime.fromisoformat("2027-03-30T00:00:00+00:00"))
    await start_service(build_incidents, IncidentSettings, clock=clock,
                        service_catalog=CONFIG / "service-catalog.yaml",
                        policy=tmp_path / "policy.yaml")
    await start_service(build_oncall, OnCallSettings, clock=clock,
                        oncall=tmp_path / "oncall.yaml",
                        service_catalog=CONFIG / "service-catalog.yaml",
                        twilio_url=twilio.url, twilio_account_sid=SID,
                        twilio_auth_token=TOKEN, twilio_from="+15005550006")
    await publish_all(nc, [accepted("window", service="checkout")])

    async def paged():
        return [(e.data["level"], e.data["users"])
                for e in await stream_messages(nc, "ONCALL", IncidentPaged.SUBJECT)]

    await wait_for(paged, check=lambda p: p == [(1, ["bo"])])
    ends = clock.now() + timedelta(minutes=30)
    await request(nc, CreateSilence(kind="maintenance", matchers=["service=checkout"],
                                    ends_at=ends, author="user:tests", reason="db upgrade"),
                  SilenceView)
    clock.advance(timedelta(minutes=10))  # level 2 is due, inside the window
    [deferred] = await wait_for(
        lambda: stream_messages(nc, "ONCALL", PageDeferred.SUBJECT), check=bool)
    assert (deferred.data["level"], deferred.data["until"]) == (
        2, ends.isoformat().replace("+00:00", "Z"))
    assert await paged() == [(1, ["bo"])]
    clock.advance(timedelta(minutes=21))  # the window is over
    await wait_for(paged, check=lambda p: p == [(1, ["bo"]), (2, ["cy"])])
    await twilio.server.stop()


async def test_the_opened_event_says_whether_a_silence_covers_it(nc, start_service, tmp_path):
    """The incident service says in ``incident.opened`` whether a silence covers the new
    incident, so paging does not ask it (one request an incident, in a storm thousands);
    an event that does not say (an older sender) is asked about as before."""
    twilio = await FakeTwilio().start()
    (tmp_path / "oncall.yaml").write_text(PAGING)
    (tmp_path / "policy.yaml").write_text(POLICY + "  user:tests: [admin]\n")
    clock = FrozenClock(datetime.fromisoformat("2027-03-30T00:00:00+00:00"))
    await start_service(build_incidents, IncidentSettings, clock=clock,
                        service_catalog=CONFIG / "service-catalog.yaml",
                        policy=tmp_path / "policy.yaml")
    await start_service(build_oncall, OnCallSettings, clock=clock,
                        oncall=tmp_path / "oncall.yaml",
                        service_catalog=CONFIG / "service-catalog.yaml",
                        twilio_url=twilio.url, twilio_account_sid=SID,
                        twilio_auth_token=TOKEN, twilio_from="+15005550006")
    asked: list[str] = []

    async def record(msg) -> None:  # beside the incident service, which answers
        asked.append(json.loads(msg.data)["incident_id"])
    await nc.subscribe(GetCoveringSilence.SUBJECT, cb=record)

    async def paged():
        return [(e.data["incident_id"], e.data["users"])
                for e in await stream_messages(nc, "ONCALL", IncidentPaged.SUBJECT)]

    await publish_all(nc, [accepted("said", service="checkout")])
    [(first, users)] = await wait_for(paged, check=bool)
    assert users == ["bo"]
    [opened] = await stream_messages(nc, "INCIDENTS", IncidentOpened.SUBJECT)
    assert opened.data["covering_silence"] == {"incident_id": first, "silence_id": None,
                                               "kind": None, "until": None}
    assert asked == []

    # Covered, as the event says: deferred to the window's end, nothing asked.
    ends = clock.now() + timedelta(minutes=30)
    covered = IncidentOpened.model_validate(opened.data | {
        "incident_id": "INC0000901", "fingerprint": "fp-901",
        "covering_silence": {"incident_id": "INC0000901", "silence_id": "SIL-1",
                             "kind": "maintenance", "until": ends.isoformat()}})
    # Not said: asked, as before (the incident service knows no such incident: paged).
    unsaid = IncidentOpened.model_validate(opened.data | {
        "incident_id": "INC0000902", "fingerprint": "fp-902", "covering_silence": None})
    await publish_all(nc, [Envelope.wrap(covered, source="incidents"),
                           Envelope.wrap(unsaid, source="incidents")])
    [deferred] = await wait_for(
        lambda: stream_messages(nc, "ONCALL", PageDeferred.SUBJECT), check=bool)
    assert (deferred.data["incident_id"], deferred.data["silence_id"]) == (
        "INC0000901", "SIL-1")
    await wait_for(paged, check=lambda p: ("INC0000902", ["bo"]) in p)
    assert asked == ["INC0000902"]
    await twilio.server.stop()
