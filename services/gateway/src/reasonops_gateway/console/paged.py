"""``/page/{link}``: where the link in a page leads. No login: the signed link is the
credential (the on-call service checks it, and acts as the person paged, once). A GET
only shows the choices (mail scanners open links); a POST acts.

``/slack/interactivity``: the buttons of a page posted in Slack. Slack signs each
request (``X-Slack-Signature``: HMAC-SHA256 of ``v0:<timestamp>:<body>`` under the app's
signing secret); one with a bad signature, or older than five minutes (a replay), is
refused and on record. A button's value is the page's signed link, so a button acts as
the person paged, once, as the link does."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reasonops_contracts import Envelope, ReplyError
from reasonops_contracts.oncall import ActFromPage, PageAction, PageActionKind
from reasonops_contracts.policy import AccessDenied
from reasonops_runtime.client import request as ask

from .frame import Console

ACTIONS = {"acknowledge": "Acknowledge", "resolve": "Resolve", "escalate": "Escalate now"}


def routes(console: Console) -> list[Route]:
    async def page(request: Request) -> Response:
        token = request.path_params["token"]
        shown = _shown(token)
        if request.method == "GET":
            return console.page(request, "paged.html", 200 if shown else 400, link=shown,
                                actions=ACTIONS, result=None, error=None if shown else
                                "This is not a link ReasonOps sent.")
        form = await request.form()
        action = str(form.get("action") or "")
        if action not in ACTIONS or not shown:
            return console.page(request, "paged.html", 400, link=shown, actions=ACTIONS,
                                result=None, error="Choose one of the actions.")
        try:
            done = await ask(console.gateway.nc, ActFromPage(token=token, action=action),
                             PageAction, timeout=console.gateway.timeout)
        except ReplyError as exc:
            status = {"forbidden": 403, "illegal_transition": 409}.get(exc.detail.code, 422)
            return console.page(request, "paged.html", status, link=shown, actions=ACTIONS,
                                result=None, error=exc.detail.message.removeprefix("token: "))
        except (TimeoutError, RuntimeError, OSError):
            return console.page(request, "paged.html", 503, link=shown, actions=ACTIONS,
                                result=None, error="ReasonOps did not answer; nothing was "
                                                   "done. Try again in a moment.")
        return console.page(request, "paged.html", link=shown, actions=ACTIONS, result=done,
                            error=None)

    async def slack(request: Request) -> Response:
        secret = console.gateway.slack_signing_secret
        if not secret:
            return JSONResponse({"error": "Slack is not configured here"}, status_code=404)
        body = await request.body()
        refused = _unsigned(secret, body, request.headers.get("x-slack-request-timestamp", ""),
                            request.headers.get("x-slack-signature", ""))
        if refused is not None:
            now = console.gateway.clock.now()
            await console.gateway.record(Envelope.wrap(AccessDenied(
                principal="(slack)", action="oncall.slack", roles=[], reason=refused,
                service_name="gateway", denied_at=now), source="gateway",
                subject="slack", time=now))
            return JSONResponse({"error": refused}, status_code=401)
        try:
            payload = json.loads(parse_qs(body.decode())["payload"][0])
            pressed = payload["actions"][0]
            action = str(pressed["action_id"]).removeprefix("oncall_")
            token = str(pressed["value"])
            who = str(payload.get("user", {}).get("username") or
                      payload.get("user", {}).get("id") or "someone")
        except (KeyError, IndexError, ValueError, TypeError, AttributeError):
            return JSONResponse({"error": "not a block_actions payload"}, status_code=400)
        if action not in ACTIONS:
            return JSONResponse({"text": f"Unknown action {action!r}."})
        try:
            done = await ask(console.gateway.nc, ActFromPage(token=token, action=_kind(action)),
                             PageAction, timeout=console.gateway.timeout)
        except ReplyError as exc:
            return JSONResponse({"replace_original": False, "text": (
                f"Not done: {exc.detail.message.removeprefix('token: ')}")})
        return JSONResponse({"replace_original": False,
                             "text": f"{who}: {done.done} (as {done.user})"})

    return [Route("/page/{token}", page, methods=["GET", "POST"]),
            Route("/slack/interactivity", slack, methods=["POST"])]


MAX_AGE_SECONDS = 300


def _unsigned(secret: str, body: bytes, timestamp: str, signature: str) -> str | None:
    """Why the request is not Slack's, now; None when it is."""
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > MAX_AGE_SECONDS:
        return "no timestamp, or one more than five minutes away (a replay?)"
    expected = "v0=" + hmac.new(secret.encode(), f"v0:{timestamp}:".encode() + body,
                                hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        return "the signature is not the Slack app's"
    return None


def _kind(action: str) -> PageActionKind:
    return "acknowledge" if action == "acknowledge" else \
        "resolve" if action == "resolve" else "escalate"


def _shown(token: str) -> dict[str, Any] | None:
    """What the link names, to show before acting (not trusted: the service checks)."""
    payload = token.partition(".")[0]
    try:
        found = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return {"incident_id": str(found["i"]), "user": str(found["u"])}
    except (ValueError, KeyError, TypeError):
        return None
