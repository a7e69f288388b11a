"""``/api/sla``: service levels per service and period (an incident's clocks are under
``/api/incidents/{id}/sla``), and the headline figures people quote."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from reasonops_client.reports import slm_metrics
from reasonops_contracts.api import SlmMetrics
from reasonops_contracts.ids import MONTH_PATTERN
from reasonops_contracts.slm import (
    Attention,
    GetSlaReport,
    ListSlaClocks,
    ListSlaPolicies,
    ListSupplierContracts,
    SlaClockList,
    SlaPolicyList,
    SlaReport,
    SupplierContractList,
)

from .context import CallerDep, GatewayDep
from .errors import Problem

router = APIRouter(prefix="/api/sla", tags=["service levels"])
Month = Annotated[str | None, Query(pattern=MONTH_PATTERN, description="YYYY-MM (UTC)")]
PeriodDays = Annotated[int | None, Query(ge=1, le=366,
                                         description="Instead of month: the last N days")]


async def report_of(caller: CallerDep, gateway: GatewayDep, month: str | None,
                    period_days: int | None, service: str | None) -> SlaReport:
    if month is not None and period_days is not None:
        raise Problem(422, "invalid_request", "period_days: give month or period_days, not "
                      "both", field="query.period_days")
    if month is None and period_days is None:
        month = gateway.clock.now().strftime("%Y-%m")
    return await gateway.ask(caller, GetSlaReport(month=month, period_days=period_days,
                                                  service=service), SlaReport)


@router.get("/report", response_model=SlaReport, summary="Service levels per service")
async def report(caller: CallerDep, gateway: GatewayDep, month: Month = None,
                 period_days: PeriodDays = None, service: str | None = None) -> SlaReport:
    """Availability, error budget, MTTA, MTTR, MTBF and breaches per service, and the
    penalties assessed, for a calendar month (default: this one) or the last N days."""
    return await report_of(caller, gateway, month, period_days, service)


@router.get("/metrics", response_model=SlmMetrics, summary="Availability, MTTR and MTBF")
async def metrics(caller: CallerDep, gateway: GatewayDep, period_days: PeriodDays = 30,
                  month: Month = None, service: str | None = None) -> SlmMetrics:
    found = await report_of(caller, gateway, month, None if month else period_days, service)
    return slm_metrics(found)



@router.get("/contracts", response_model=SupplierContractList,
            summary="Supplier contracts and their penalties")
async def contracts(caller: CallerDep, gateway: GatewayDep) -> SupplierContractList:
    """The underpinning contracts in force: services, penalties per breach and per hour
    by priority, availability credits, caps (penalties assessed are in the report)."""
    return await gateway.ask(caller, ListSupplierContracts(), SupplierContractList)


@router.get("/clocks", response_model=SlaClockList, summary="SLA clocks at risk or breached now")
async def clocks(caller: CallerDep, gateway: GatewayDep, attention: Attention = "at_risk",
                 at_risk_percent: Annotated[int, Query(description="50, 75 or 90")] = 75,
                 service: str | None = None,
                 limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> JSONResponse:
    """Earliest deadline first. ``at_risk``: running clocks announced at risk at
    ``at_risk_percent`` (50, 75 or 90) of their target or later; ``breached``: past the
    target and not yet stopped (the incident still waits for its acknowledgement or
    resolution); ``running``: every running clock."""
    return JSONResponse(await gateway.relay(caller, ListSlaClocks(
        attention=attention, at_risk_percent=at_risk_percent, service=service,
        limit=limit)))


@router.get("/policies", response_model=SlaPolicyList, summary="The SLA definitions in force")
async def policies(caller: CallerDep, gateway: GatewayDep,
                   service: str | None = None) -> SlaPolicyList:
    """Response and resolution targets per priority (a service's own where it has them),
    their working-time calendar and pause rules, and the assignment groups' OLAs."""
    return await gateway.ask(caller, ListSlaPolicies(service=service), SlaPolicyList)
