"""Notifications due together go out together, through the real incidents and on-call
services on a real nats-server: a level that pages a team of five sends to all five at
once (a receiver that answers only when it holds every request sees them all in flight),
and a provider answer the channel cannot read (Twilio's 201 with a body that is not
JSON) is on record as a try to repeat, repeated, and holds back or repeats none of the
others. Incidents opened, declared major and resolved in one batch page as they would one
by one."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reasonops_contracts import Envelope
from reasonops_contracts.incidents import (
    IncidentList,
    IncidentMajorDeclared,
    IncidentOpened,
    IncidentResolved,
    ListIncidents,
)
from reasonops_contracts.oncall import IncidentPaged, NotificationSent, PagingStopped
from reasonops_incidents.app import IncidentSettings
from reasonops_incidents.app import build_service as build_incidents
from reasonops_oncall.app import OnCallSettings
from reasonops_oncall.app import build_service as build_oncall
from reasonops_runtime import FrozenClock
from reasonops_runtime.client import request
from reasonops_runtime.http import HttpServer
from reasonops_runtime.jetstream import ensure_streams
from tests.integration.conftest import CONFIG, POLICY
from tests.integration.test_oncall_paging import SID, TOKEN
from tests.support import accepted, owner, publish_all, stream_messages, wait_for

pytestmark = pytest.mark.nats

HOOKS = ("ann", "ben", "cat", "dan")


class Receivers:
    """Webhooks that answer once all of ``HOOKS`` are in flight (or after ``patience``
    seconds, so notifications sent one after another still finish), and a Twilio whose
    first answer is a 201 with a body that is not JSON."""

    def __init__(self, patience: float = 3.0) -> None:
        self.patience = patience
        self.in_flight = 0
        self.most_in_flight = 0
        self.hooked: list[str] = []
        self.all_in = asyncio.Event()
        self.texts: list[str] = []
        self.server = HttpServer(Starlette(routes=[
            Route("/hook/{who}", self.hook, methods=["POST"]),
            Route("/2010-04-01/Accounts/{sid}/Messages.json", self.sms, methods=["POST"])]),
            "127.0.0.1", 0)
        self.url = ""

    async def start(self) -> Receivers:
        self.url = f"http://127.0.0.1:{self.server.bind()}"
        await self.server.start()
        return self

    async def hook(self, request: Request) -> Response:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        if self.in_flight == len(HOOKS):
            self.all_in.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.all_in.wait(), self.patience)
        self.in_flight -= 1
        self.hooked.append(request.path_params["who"])
        return JSONResponse({"ok": True})

    async def sms(self, request: Request) -> Response:
        self.texts.append(str((await request.form())["To"]))
        if len(self.texts) == 1:
            return Response("<html>upstream proxy</html>", status_code=201,
                            media_type="text/html")
        return JSONResponse({"sid": f"SM{len(self.texts):032d}", "status": "queued"}, 201)


def oncall_file(url: str) -> str:
    hooks = "".join(f"  {who}: {{name: {who}, contacts: [{{kind: webhook, address: "
                    f'"{url}/hook/{who}"}}]}}\n' for who in HOOKS)
    return f"""\
users:
{hooks}  sam: {{name: Sam, contacts: [{{kind: sms, address: "+15550100"}}]}}
teams:
  ops: {{members: [{", ".join(HOOKS)}, sam]}}
escalation_policies:
  ops:
    services: [checkout]
    levels:
      - {{after: 0s, notify: [{{team: ops}}]}}
"""


async def test_a_team_is_notified_at_once_and_an_unreadable_answer_is_tried_again(
        nc, start_service, tmp_path):
    receivers = await Receivers().start()
    (tmp_path / "oncall.yaml").write_text(oncall_file(receivers.url))
    (tmp_path / "policy.yaml").write_text(POLICY + "  user:tests: [admin]\n")
    clock = FrozenClock(datetime.fromisoformat("2027-03-30T10:00:00+00:00"))
    await start_service(build_incidents, IncidentSettings, clock=clock,
                        service_catalog=CONFIG / "service-catalog.yaml",
                        policy=tmp_path / "policy.yaml")
    await start_service(build_oncall, OnCallSettings, clock=clock,
                        oncall=tmp_path / "oncall.yaml", twilio_url=receivers.url,
                        twilio_account_sid=SID, twilio_auth_token=TOKEN,
                        twilio_from="+15005550006")
    await publish_all(nc, [accepted("team", service="checkout")])
    [incident] = (await wait_for(lambda: request(nc, ListIncidents(), IncidentList),
                                 check=lambda r: r.total == 1)).items

    async def sent() -> list[tuple[str, str, int, str]]:
        return [(e.data["user"], e.data["channel"], e.data["attempt"], e.data["outcome"])
                for e in await stream_messages(nc, "ONCALL", NotificationSent.SUBJECT)]

    first = await wait_for(sent, check=lambda s: len(s) == 5)
    assert receivers.most_in_flight == len(HOOKS)  # sent at once, not one after another
    assert sorted(first) == sorted([(who, "webhook", 1, "delivered") for who in HOOKS]
                                   + [("sam", "sms", 1, "retrying")])
    [unread] = [e.data for e in await stream_messages(nc, "ONCALL", NotificationSent.SUBJECT)
                if e.data["user"] == "sam"]
    assert unread["detail"] == "the send failed (JSONDecodeError)"
    assert unread["incident_id"] == incident.incident_id

    clock.advance(timedelta(seconds=30))  # the SMS is tried again; nothing else is sent
    await wait_for(sent, check=lambda s: len(s) == 6)
    assert (await sent())[-1] == ("sam", "sms", 2, "delivered")
    assert receivers.texts == ["+15550100", "+15550100"]
    assert sorted(receivers.hooked) == sorted(HOOKS)
    await receivers.server.stop()


def _event(event) -> Envelope:
    return Envelope.wrap(event, source=owner(event), subject=event.incident_id)


async def test_incidents_opened_declared_major_and_resolved_in_one_batch_page_as_one_by_one(
        nc, start_service, tmp_path, caplog):
    receivers = await Receivers(patience=0).start()
    (tmp_path / "oncall.yaml").write_text(f"""\
users:
  ann: {{name: Ann, contacts: [{{kind: webhook, address: "{receivers.url}/hook/ann"}}]}}
  cat: {{name: Cat, contacts: [{{kind: webhook, address: "{receivers.url}/hook/cat"}}]}}
escalation_policies:
  ops:
    services: [checkout]
    levels:
      - {{after: 0s, notify: [{{user: ann}}]}}
major_incident:
  notify: [{{user: cat}}]
""")
    now = datetime.now(UTC)

    def opened(incident: str, service: str) -> Envelope:
        return _event(IncidentOpened(
            incident_id=incident, title=f"{service} down", service=service,
            severity="critical", impact=1, urgency=1, priority=1, priority_reason="test",
            fingerprint=incident, opened_at=now))

    def major(incident: str) -> Envelope:
        return _event(IncidentMajorDeclared(
            incident_id=incident, title="down", service="checkout", priority=1,
            declared_at=now, actor="user:tests", reason="P1"))

    def resolved(incident: str) -> Envelope:
        return _event(IncidentResolved(incident_id=incident, resolved_at=now,
                                       actor="user:tests"))

    await ensure_streams(nc.jetstream())
    # Published before the service starts: its first fetch takes them all.
    await publish_all(nc, [opened("INC0000001", "checkout"), opened("INC0000002", "nobody"),
                           major("INC0000001"), major("INC0000003"), major("INC0000003"),
                           resolved("INC0000002"), resolved("INC0000001")])
    with caplog.at_level(logging.WARNING):
        await start_service(build_oncall, OnCallSettings, oncall=tmp_path / "oncall.yaml")

        async def on_record(model) -> list[dict]:
            return [e.data for e in await stream_messages(nc, "ONCALL", model.SUBJECT)]

        await wait_for(lambda: on_record(NotificationSent), check=bool)
        await asyncio.sleep(0.5)  # nothing more comes
    paged = [(p["incident_id"], p["policy"], p["users"]) for p in await on_record(IncidentPaged)]
    assert paged == [("INC0000001", "ops", ["ann"]), ("INC0000001", "major-incident", ["cat"]),
                     ("INC0000003", "major-incident", ["cat"]),
                     ("INC0000003", "major-incident", ["cat"])]
    assert [s["incident_id"] for s in await on_record(PagingStopped)] == ["INC0000001"]
    # INC0000001 resolved before its notifications were due; INC0000003's second
    # declaration re-armed the first's.
    assert [(n["incident_id"], n["user"], n["outcome"])
            for n in await on_record(NotificationSent)] == [("INC0000003", "cat", "delivered")]
    assert receivers.hooked == ["cat"]
    assert not [r for r in caplog.records if "rolled back" in r.getMessage()]
    await receivers.server.stop()
