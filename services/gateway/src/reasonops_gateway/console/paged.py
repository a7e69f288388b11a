"""``/page/{link}``: where the link in a page leads. No login: the signed link is the
credential (the on-call service checks it, and acts as the person paged, once). A GET
only shows the choices (mail scanners open links); a POST acts."""

from __future__ import annotations

import base64
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reasonops_contracts import ReplyError
from reasonops_contracts.oncall import ActFromPage, PageAction
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

    return [Route("/page/{token}", page, methods=["GET", "POST"])]


def _shown(token: str) -> dict[str, Any] | None:
    """What the link names, to show before acting (not trusted: the service checks)."""
    payload = token.partition(".")[0]
    try:
        found = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return {"incident_id": str(found["i"]), "user": str(found["u"])}
    except (ValueError, KeyError, TypeError):
        return None
