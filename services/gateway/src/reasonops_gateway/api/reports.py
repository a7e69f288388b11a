"""``/api/dashboard`` (the integrated view in one call) and ``/api/reports/monthly``
(the month's summary people file), built by the client library from the services'
answers, so the CLI and the console show the same numbers."""

from __future__ import annotations

from typing import Annotated, TypeVar

from fastapi import APIRouter, Query
from pydantic import BaseModel

from reasonops_client.agents import gather_statuses
from reasonops_client.reports import Asker, fetch_dashboard, fetch_monthly_summary
from reasonops_contracts import Command
from reasonops_contracts import Query as Question
from reasonops_contracts.api import Dashboard, MonthlySummary
from reasonops_contracts.ids import MONTH_PATTERN

from .context import Caller, CallerDep, Gateway, GatewayDep

V = TypeVar("V", bound=BaseModel)
router = APIRouter(tags=["reports"])
AGENT_WAIT_SECONDS = 0.5
AGENT_QUIET_SECONDS = 0.1
"""The dashboard stops waiting for agents this long after the last one answered."""


def _asker(gateway: Gateway, caller: Caller) -> Asker:
    async def ask(message: Command | Question, result: type[V]) -> V:
        return await gateway.ask(caller, message, result)
    return ask


@router.get("/api/dashboard", response_model=Dashboard, summary="The integrated view")
async def get_dashboard(caller: CallerDep, gateway: GatewayDep) -> Dashboard:
    """Services and their availability this month, open incidents by priority, SLA
    breaches, penalties and budget against actual this month, agent health; each part
    narrowed to what the caller may read."""
    visible = await gateway.visibility(caller, "the dashboard")
    return await fetch_dashboard(
        _asker(gateway, caller),
        lambda: gateway.ask_all(lambda nc: gather_statuses(
            nc, probe=False, wait=AGENT_WAIT_SECONDS, quiet=AGENT_QUIET_SECONDS)),
        now=gateway.clock.now(),
        known_services=[s for s in gateway.known_services
                        if visible.covers(gateway.owner(s), s)])


@router.get("/api/reports/monthly", response_model=MonthlySummary,
            summary="A month's service levels and what they cost")
async def monthly(caller: CallerDep, gateway: GatewayDep,
                  month: Annotated[str | None, Query(pattern=MONTH_PATTERN, description=(
                      "YYYY-MM; default: this month"))] = None) -> MonthlySummary:
    now = gateway.clock.now()
    return await fetch_monthly_summary(_asker(gateway, caller),
                                       month or now.strftime("%Y-%m"), now=now)
