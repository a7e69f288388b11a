"""Changes: the calendar of the next two weeks (changes and freezes), the recent changes
by state, the month's metrics, and one change with its plan, approvals, the incidents
linked to it and its actions (start, complete with an outcome, withdraw) for whoever may
``change.implement``."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reasonops_contracts.api import Me
from reasonops_contracts.changes import ChangeMetrics
from reasonops_sdk import AsyncReasonOpsClient
from reasonops_sdk.errors import ReasonOpsError

from .frame import Console, Shown

STATES = ("requested", "approved", "rejected", "implementing", "completed", "cancelled")
OUTCOMES = ("successful", "failed", "backed_out")
CALENDAR_DAYS = 14
SHOWN = 100


def routes(console: Console) -> list[Route]:
    async def list_page(request: Request) -> Response:
        return await console.show(request, change_list)

    async def change_page(request: Request) -> Response:
        return await console.show(request, change)

    async def act(request: Request) -> Response:
        change_id, step = request.path_params["change_id"], request.path_params["step"]

        async def run(client: AsyncReasonOpsClient, form: FormData) -> None:
            note = str(form.get("note") or "").strip() or None
            if step == "start":
                await client.start_change(change_id, note)
            elif step == "complete":
                await client.complete_change(change_id, str(form.get("outcome") or ""), note)
            else:
                await client.cancel_change(change_id, note)
        if step not in ("start", "complete", "cancel"):
            return await console.show(request, change, error=f"no action {step!r}",
                                      status=404)
        return await console.perform(request, run, back=f"/changes/{quote(change_id)}",
                                     done=step, again=change)

    return [Route("/changes", list_page), Route("/changes/{change_id}", change_page),
            Route("/changes/{change_id}/{step}", act, methods=["POST"])]


async def change_list(request: Request, client: AsyncReasonOpsClient, me: Me) -> Shown:
    asked = [s for s in request.query_params.getlist("state") if s in STATES]
    now = datetime.now(UTC)
    found, calendar = await asyncio.gather(
        client.list_changes(states=asked or None, limit=SHOWN),
        client.change_calendar(now, now + timedelta(days=CALENDAR_DAYS)))
    metrics: ChangeMetrics | None = None
    with contextlib.suppress(ReasonOpsError):  # the page helps without them
        metrics = await client.change_metrics(f"{now:%Y-%m}")
    days = [(day, [c for c in calendar.changes
                   if c.planned_start.date() <= day <= c.planned_end.date()])
            for day in ((now + timedelta(days=n)).date() for n in range(CALENDAR_DAYS))]
    return Shown("changes.html", {
        "changes": found.items, "calendar": calendar, "metrics": metrics, "days": days,
        "states": STATES, "chosen": asked, "month": f"{now:%Y-%m}"})


async def change(request: Request, client: AsyncReasonOpsClient, me: Me) -> Shown:
    found = await client.get_change(request.path_params["change_id"])
    may = me.can.get("change.implement", False)
    return Shown("change.html", {
        "change": found, "outcomes": OUTCOMES,
        "may_start": may and found.state == "approved",
        "may_complete": may and found.state == "implementing",
        "may_cancel": may and found.state in ("requested", "approved")})
