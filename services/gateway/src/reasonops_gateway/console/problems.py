"""Problems: the list (by state) and one problem with its incidents, workaround and
history, moved on (investigating, known error with its workaround, resolved) by whoever
may ``problem.update``."""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reasonops_contracts.api import Me
from reasonops_contracts.incidents import IncidentView
from reasonops_sdk import AsyncReasonOpsClient
from reasonops_sdk.errors import ReasonOpsError

from .frame import Console, Shown

STATES = ("new", "investigating", "known_error", "resolved")
OPEN = ("new", "investigating", "known_error")
SHOWN_INCIDENTS = 50


def routes(console: Console) -> list[Route]:
    async def list_page(request: Request) -> Response:
        return await console.show(request, problem_list)

    async def problem_page(request: Request) -> Response:
        return await console.show(request, problem)

    async def update(request: Request) -> Response:
        problem_id = request.path_params["problem_id"]

        async def run(client: AsyncReasonOpsClient, form: FormData) -> None:
            await client.update_problem(
                problem_id, str(form.get("state") or ""),
                workaround=str(form.get("workaround") or "").strip() or None,
                note=str(form.get("note") or "").strip() or None)
        return await console.perform(request, run, back=f"/problems/{quote(problem_id)}",
                                     done="update", again=problem)

    return [Route("/problems", list_page), Route("/problems/{problem_id}", problem_page),
            Route("/problems/{problem_id}/update", update, methods=["POST"])]


async def problem_list(request: Request, client: AsyncReasonOpsClient, me: Me) -> Shown:
    asked = [s for s in request.query_params.getlist("state") if s in STATES]
    states = asked or list(OPEN)
    found = await client.list_problems(states=states, limit=200)
    return Shown("problems.html", {"problems": found.items, "states": STATES,
                                   "chosen": states})


async def problem(request: Request, client: AsyncReasonOpsClient, me: Me) -> Shown:
    found = await client.get_problem(request.path_params["problem_id"])

    async def readable(incident_id: str) -> IncidentView | None:
        with contextlib.suppress(ReasonOpsError):  # one outside the reader's scope
            return await client.get_incident(incident_id)
        return None
    incidents = await asyncio.gather(*(readable(i)
                                       for i in found.incident_ids[-SHOWN_INCIDENTS:]))
    return Shown("problem.html", {
        "problem": found, "incidents": [i for i in reversed(incidents) if i is not None],
        "hidden": len(found.incident_ids) - sum(1 for i in incidents if i is not None),
        "states": STATES, "may_update": me.can.get("problem.update", False)})
