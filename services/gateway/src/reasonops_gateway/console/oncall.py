"""On call: each schedule with who is on call now and until when, its layers, the next
week's turns and gaps, its overrides; taking a schedule for a while (an override) and
removing one, for whoever may ``oncall.override``."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reasonops_contracts.api import Me
from reasonops_sdk import AsyncReasonOpsClient
from reasonops_sdk.errors import ReasonOpsError

from . import session
from .frame import Console, Shown

WEEK = timedelta(days=7)
MONTH = timedelta(days=30)


def routes(console: Console) -> list[Route]:
    async def page(request: Request) -> Response:
        return await console.show(request, oncall)

    async def override(request: Request) -> Response:
        async def run(client: AsyncReasonOpsClient, form: FormData) -> None:
            await client.create_override(_text(form, "schedule"), _text(form, "user"),
                                         _when(form, "start"), _when(form, "end"),
                                         _text(form, "reason"))
        return await console.perform(request, run, back="/on-call", done="override made",
                                     again=oncall)

    async def remove(request: Request) -> Response:
        async def run(client: AsyncReasonOpsClient, form: FormData) -> None:
            await client.remove_override(request.path_params["override_id"])
        return await console.perform(request, run, back="/on-call", done="override removed",
                                     again=oncall)

    async def calendar(request: Request) -> Response:
        """The schedule's next 30 days as iCalendar, for the browser's session (the API
        takes a bearer token, which a download link cannot send)."""
        token = session.token_of(request)
        if token is None:
            return console.to_login(request)
        name = request.path_params["schedule"]
        now = datetime.now(UTC)
        async with console.client(token) as client:
            try:
                found = await client.oncall_shifts(name, start=now, end=now + MONTH)
            except ReasonOpsError as exc:
                return console.failure(request, exc, None)
        return Response(found.calendar, media_type="text/calendar; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="{found.schedule}.ics"'})

    return [Route("/on-call", page),
            Route("/on-call/{schedule}.ics", calendar),
            Route("/on-call/overrides", override, methods=["POST"]),
            Route("/on-call/overrides/{override_id}/remove", remove, methods=["POST"])]


async def oncall(request: Request, client: AsyncReasonOpsClient, me: Me) -> Shown:
    found = await client.oncall_schedules()
    now = datetime.now(UTC)
    weeks = await asyncio.gather(*(client.oncall_shifts(s.name, start=now, end=now + WEEK)
                                   for s in found.items))
    return Shown("oncall.html", {
        "found": found, "weeks": {w.schedule: w for w in weeks},
        "people": {p.user: p for p in found.people},
        "may_override": me.can.get("oncall.override", False),
        "today": now.strftime("%Y-%m-%dT%H:%M")})


def _text(form: FormData, name: str) -> str:
    return str(form.get(name) or "").strip()


def _when(form: FormData, name: str) -> Any:
    """A ``datetime-local`` field, read as UTC; as given when it is no time (the API
    names the field and the problem)."""
    value = _text(form, name)
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    except ValueError:
        return value
