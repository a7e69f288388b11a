"""E-mail goes to a real SMTP server (aiosmtpd); a channel that is not configured fails
saying what it needs; an SMTP server that does not answer is tried again; Teams gets an
Adaptive Card and PagerDuty an Events API v2 trigger."""

from __future__ import annotations

import httpx
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message as Collect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reasonops_oncall.channels import Channels, ChannelSettings, Message
from reasonops_runtime.ports import free_port_range


class Inbox(Collect):
    def __init__(self) -> None:
        super().__init__()
        self.mails: list = []

    def handle_message(self, message) -> None:
        self.mails.append(message)


async def test_email_goes_through_smtp_and_an_unset_channel_says_what_it_needs():
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port_range(1))
    smtp.start()
    try:
        channels = Channels(ChannelSettings(smtp_host="127.0.0.1", smtp_port=smtp.port,
                                            smtp_from="pager@reasonops.test"))
        sent = await channels.send("email", "ana@example.com",
                                   Message("[ReasonOps] P1 INC0000001", "checkout is down"))
        unset = await channels.send("sms", "+35190", Message("s", "t"))
        await channels.aclose()
    finally:
        smtp.stop()
    assert sent.outcome == "delivered"
    [mail] = inbox.mails
    assert (mail["To"], mail["From"], mail["Subject"]) == (
        "ana@example.com", "pager@reasonops.test", "[ReasonOps] P1 INC0000001")
    assert "checkout is down" in mail.get_payload()
    assert (unset.outcome, "REASONOPS_TWILIO_ACCOUNT_SID" in unset.detail) == ("failed", True)


async def test_an_unreachable_smtp_server_is_tried_again():
    channels = Channels(ChannelSettings(smtp_host="127.0.0.1", smtp_port=1,
                                        timeout_seconds=1))
    sent = await channels.send("email", "ana@example.com", Message("s", "t"))
    await channels.aclose()
    assert sent.outcome == "retrying"


class Provider:
    """A Teams webhook and PagerDuty's Events API v2, as each answers."""

    def __init__(self) -> None:
        self.got: list[tuple[str, dict]] = []
        self.app = Starlette(routes=[Route("/teams", self.teams, methods=["POST"]),
                                     Route("/v2/enqueue", self.pagerduty, methods=["POST"])])

    async def teams(self, request: Request) -> Response:
        body = await request.json()
        self.got.append(("teams", body))
        card = body["attachments"][0]
        if card["contentType"] != "application/vnd.microsoft.card.adaptive":
            return Response("Bad payload", status_code=400)
        return Response("1")

    async def pagerduty(self, request: Request) -> JSONResponse:
        body = await request.json()
        self.got.append(("pagerduty", body))
        if body.get("routing_key") != "R0123456789abcdef0123456789abcdef":
            return JSONResponse({"status": "invalid event", "message": "Event object is "
                                 "invalid", "errors": ["Invalid routing key"]}, 400)
        if body.get("event_action") not in ("trigger", "acknowledge", "resolve") or \
                not body["payload"]["summary"]:
            return JSONResponse({"status": "invalid event"}, 400)
        return JSONResponse({"status": "success", "message": "Event processed",
                             "dedup_key": body["dedup_key"]}, 202)


async def test_teams_gets_an_adaptive_card_and_pagerduty_a_trigger():
    provider = Provider()
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=provider.app),
                             base_url="http://provider")
    channels = Channels(ChannelSettings(pagerduty_url="http://provider/v2/enqueue"), http)
    message = Message("[ReasonOps] P1 INC0000007: checkout down", "checkout answers 503",
                      link="https://ops.example.com/page/abc.def", incident_id="INC0000007")
    teams = await channels.send("teams", "http://provider/teams", message)
    pd = await channels.send("pagerduty", "R0123456789abcdef0123456789abcdef", message)
    wrong = await channels.send("pagerduty", "Rnot-a-key", message)
    await channels.aclose()
    assert (teams.outcome, pd.outcome, wrong.outcome) == ("delivered", "delivered", "failed")
    card = provider.got[0][1]["attachments"][0]["content"]
    assert card["actions"][0]["url"] == "https://ops.example.com/page/abc.def"
    event = provider.got[1][1]
    assert (event["event_action"], event["dedup_key"]) == ("trigger", "INC0000007")
    assert event["links"][0]["href"] == "https://ops.example.com/page/abc.def"
