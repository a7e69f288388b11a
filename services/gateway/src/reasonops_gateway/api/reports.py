"""``/api/dashboard`` (the integrated view in one call) and ``/api/reports/monthly``
(the month's summary people file), built by the client library from the services'
answers, so the CLI and the console show the same numbers."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query

from reasonops_client.agents import gather_statuses
from reasonops_client.reports import dashboard, monthly_summary
from reasonops_contracts.api import Dashboard, MonthlySummary
from reasonops_contracts.finance import (
    BudgetList,
    FinanceSummary,
    GetBudgets,
    GetFinanceSummary,
)
from reasonops_contracts.ids import MONTH_PATTERN
from reasonops_contracts.incidents import CountIncidents, IncidentCounts
from reasonops_contracts.slm import GetSlaReport, SlaReport

from .context import CallerDep, GatewayDep

router = APIRouter(tags=["reports"])
AGENT_WAIT_SECONDS = 0.5


@router.get("/api/dashboard", response_model=Dashboard, summary="The integrated view")
async def get_dashboard(caller: CallerDep, gateway: GatewayDep) -> Dashboard:
    """Services and their availability this month, open incidents by priority, SLA
    breaches, penalties and budget against actual this month, agent health; each part
    narrowed to what the caller may read."""
    month = gateway.clock.now().strftime("%Y-%m")
    visible = await gateway.visibility(caller, "the dashboard")
    counts, report, finance, budgets, statuses = await asyncio.gather(
        gateway.ask(caller, CountIncidents(), IncidentCounts),
        gateway.ask(caller, GetSlaReport(month=month), SlaReport),
        gateway.ask(caller, GetFinanceSummary(month=month), FinanceSummary),
        gateway.ask(caller, GetBudgets(month=month), BudgetList),
        gateway.ask_all(lambda nc: gather_statuses(nc, probe=False, wait=AGENT_WAIT_SECONDS)))
    known = [s for s in gateway.known_services
             if visible.covers(gateway.owner(s), s)]
    return dashboard(now=gateway.clock.now(), known_services=known, counts=counts,
                     report=report, finance=finance, budgets=budgets, statuses=statuses)


@router.get("/api/reports/monthly", response_model=MonthlySummary,
            summary="A month's service levels and what they cost")
async def monthly(caller: CallerDep, gateway: GatewayDep,
                  month: Annotated[str | None, Query(pattern=MONTH_PATTERN, description=(
                      "YYYY-MM; default: this month"))] = None) -> MonthlySummary:
    month = month or gateway.clock.now().strftime("%Y-%m")
    report, finance, budgets = await asyncio.gather(
        gateway.ask(caller, GetSlaReport(month=month), SlaReport),
        gateway.ask(caller, GetFinanceSummary(month=month), FinanceSummary),
        gateway.ask(caller, GetBudgets(month=month), BudgetList))
    return monthly_summary(now=gateway.clock.now(), report=report, finance=finance,
                           budgets=budgets)
