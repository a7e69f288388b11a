"""The overview, the incident list (with the service desk's form to open one) and an
incident's page with its actions."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reasonops_contracts.api import Me
from reasonops_sdk import AsyncReasonOpsClient
from reasonops_sdk.errors import ApiError, ReasonOpsError

from .frame import Console, Go, Shown
from .levels import clocks_now
from .views import ACTIONS, STATES, actions_for, list_filters, list_link, overview_links

PAGE_SIZE = 50


def routes(console: Console) -> list[Route]:
    async def overview_page(request: Request) -> Response:
        return await console.show(request, overview)

    async def list_page(request: Request) -> Response:
        return await console.show(request, incident_list)

    async def incident_page(request: Request) -> Response:
        return await console.show(request, incident)

    async def act(request: Request) -> Response:
        incident_id, verb = request.path_params["incident_id"], request.path_params["verb"]
        if verb not in ACTIONS:
            return await console.show(request, incident, error=f"no action {verb!r}",
                                      status=404)

        async def run(client: AsyncReasonOpsClient, form: FormData) -> None:
            await _run(client, incident_id, verb, form)
        return await console.perform(request, run, back=f"/incidents/{quote(incident_id)}",
                                     done=verb, again=incident)

    async def open_page(request: Request) -> Response:
        return await console.perform(request, open_incident, back="/incidents",
                                     done="open", again=incident_list)

    return [Route("/", overview_page), Route("/incidents", list_page),
            Route("/incidents", open_page, methods=["POST"]),
            Route("/incidents/{incident_id}", incident_page),
            Route("/incidents/{incident_id}/{verb}", act, methods=["POST"])]


async def open_incident(client: AsyncReasonOpsClient, form: FormData) -> Go:
    """The service desk's form: an incident opened by hand (priority from the impact and
    urgency matrix), then its page."""
    fields: dict[str, Any] = {name: text for name in (
        "service", "caller", "category", "description")
        if (text := str(form.get(name) or "").strip())}
    for name in ("impact", "urgency"):
        value = str(form.get(name) or "3")
        fields[name] = int(value) if value.isdigit() else value  # the API names a bad one
    made = await client.create_incident(str(form.get("title") or "").strip(), **fields)
    return Go(f"/incidents/{quote(made.incident_id)}")


async def overview(request: Request, client: AsyncReasonOpsClient, me: Me) -> Shown:
    board, now = await asyncio.gather(client.get_dashboard(), clocks_now(client, limit=1))
    return Shown("overview.html", {"board": board, "links": overview_links(board),
                                   "now": now})


async def incident_list(request: Request, client: AsyncReasonOpsClient, me: Me) -> Shown:
    filters, problems = list_filters(request.query_params)
    found = None
    try:
        found = await client.list_incidents(
            limit=PAGE_SIZE, cursor=request.query_params.get("cursor") or None, **filters)
    except ApiError as exc:
        if exc.status not in (400, 422):
            raise
        problems.append(exc.problem.detail)  # a bad cursor or filter: said on the page
    return Shown("incidents.html", {
        "found": found, "filters": filters, "problems": problems, "states": STATES,
        "next_link": list_link(request.query_params, found),
        "may_open": me.can.get("incident.create", False)}, 422 if problems else 200)


async def incident(request: Request, client: AsyncReasonOpsClient, me: Me) -> Shown:
    incident_id = request.path_params["incident_id"]
    found = await client.get_incident(incident_id)
    # The page still helps without these (no SLA service, decisions not for this
    # reader, no briefing or review yet, no ServiceNow record): asked together, each
    # may fail.
    sla, trail, briefing, record, review = [
        None if isinstance(got, ReasonOpsError) else got
        for got in await asyncio.gather(
            client.incident_sla(incident_id), client.incident_audit(incident_id),
            client.incident_briefing(incident_id), client.servicenow_record(incident_id),
            client.incident_review(incident_id) if found.major else _nothing(),
            return_exceptions=True)]
    for got in (sla, trail, briefing, record, review):
        if isinstance(got, BaseException):
            raise got
    return Shown("incident.html", {"incident": found, "sla": sla, "trail": trail,
                                   "briefing": briefing, "record": record, "review": review,
                                   "actions": actions_for(found, me)})


async def _nothing() -> None:
    """Only a major incident has a post-incident review to ask for."""


async def _run(client: AsyncReasonOpsClient, incident_id: str, verb: str,
               form: FormData) -> None:
    note = str(form.get("note") or "").strip() or None
    if verb == "assign":
        await client.assign(incident_id, str(form.get("group") or "").strip(), note)
    elif verb == "comment":
        await client.comment(incident_id, note or "")
    else:
        await client.transition(incident_id, verb, note)
