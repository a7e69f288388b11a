"""Security: what the security agent detected (pattern, source, failures, accounts,
what it recommends) on which incidents, and the proposals waiting for a person's
approval in their workflows."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reasonops_contracts.api import Me
from reasonops_sdk import AsyncReasonOpsClient

from .frame import Console, Shown
from .workflows import waiting_approvals

DETECTIONS = 50


def routes(console: Console) -> list[Route]:
    async def security_page(request: Request) -> Response:
        return await console.show(request, security)

    return [Route("/security", security_page)]


async def security(request: Request, client: AsyncReasonOpsClient, me: Me) -> Shown:
    found = await client.get_agent_decisions(limit=DETECTIONS, agent_name="security")
    detections = list(reversed(found.decisions))
    definitions = {d.name: d for d in (await client.workflow_definitions()).items}
    applying = {name for name, d in definitions.items()
                if any(s.kind == "apply_proposal" for s in d.steps)}
    running = (await client.workflow_instances(state="running", limit=100)).items
    waiting = [(i, step) for i in running if i.workflow in applying
               for step in waiting_approvals(i, definitions.get(i.workflow))]
    return Shown("security.html", {
        "detections": detections, "waiting": waiting, "total": found.total,
        "incidents": sorted({d.incident_id for d in detections if d.incident_id})})
