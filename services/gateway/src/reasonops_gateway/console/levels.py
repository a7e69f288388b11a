"""Service levels (per service and month: availability, error budget, MTTA, MTTR, MTBF,
breaches, and availability over the last 12 months; the clocks at risk or breached now;
the SLA definitions in force) and suppliers (their contracts,
penalties this month and this year, caps reached, availability credits)."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reasonops_contracts.api import Me
from reasonops_contracts.slm import SlaClockList, SlaPolicyList, SlaReport
from reasonops_sdk import AsyncReasonOpsClient
from reasonops_sdk.errors import ReasonOpsError

from .frame import Console, Shown

MONTHS = 12
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def routes(console: Console) -> list[Route]:
    async def levels_page(request: Request) -> Response:
        return await console.show(request, levels)

    async def suppliers_page(request: Request) -> Response:
        return await console.show(request, suppliers)

    return [Route("/service-levels", levels_page), Route("/suppliers", suppliers_page)]


def months_back(month: str, n: int = MONTHS) -> list[str]:
    """``month`` and the ``n - 1`` before it, oldest first."""
    year, number = (int(p) for p in month.split("-"))
    found = []
    for _ in range(n):
        found.append(f"{year:04d}-{number:02d}")
        year, number = (year, number - 1) if number > 1 else (year - 1, 12)
    return found[::-1]


async def _reports(request: Request, client: AsyncReasonOpsClient) -> list[SlaReport]:
    """The asked month's report and the 11 before it, oldest first."""
    asked = request.query_params.get("month") or ""
    this = await client.sla_report(asked if MONTH.match(asked) else None)
    earlier = await asyncio.gather(*(client.sla_report(m)
                                     for m in months_back(this.month)[:-1]))
    return [*earlier, this]


@dataclass(frozen=True)
class Trend:
    """A service's availability month by month, as an SVG polyline's points."""

    points: str
    label: str


def trend(service: str, reports: list[SlaReport], width: int = 120, height: int = 28) -> Trend:
    values = [next((s.availability for s in r.services if s.service == service), None)
              for r in reports]
    known = [v for v in values if v is not None]
    low = min([*known, Decimal("99")]) if known else Decimal("99")
    span = Decimal("100") - low or Decimal("1")
    step = width / max(1, len(values) - 1)
    points = " ".join(
        f"{i * step:.1f},{height - float((v - low) / span) * (height - 2) - 1:.1f}"
        for i, v in enumerate(values) if v is not None)
    label = ", ".join(f"{r.month} {v:.2f}%" for r, v in zip(reports, values, strict=True)
                      if v is not None)
    return Trend(points, f"availability of {service} by month: {label or 'no data'}")


async def clocks_now(client: AsyncReasonOpsClient, limit: int = 50
                     ) -> tuple[SlaClockList, SlaClockList] | None:
    """The clocks breached and at risk now; None when they cannot be read (the page
    still helps without them)."""
    with contextlib.suppress(ReasonOpsError):
        breached, at_risk = await asyncio.gather(client.sla_clocks("breached", limit=limit),
                                                 client.sla_clocks("at_risk", limit=limit))
        return breached, at_risk
    return None


async def levels(request: Request, client: AsyncReasonOpsClient, me: Me) -> Shown:
    reports, now = await asyncio.gather(_reports(request, client), clocks_now(client))
    policies: SlaPolicyList | None = None
    with contextlib.suppress(ReasonOpsError):
        policies = await client.sla_policies()
    this = reports[-1]
    return Shown("levels.html", {
        "report": this, "trends": {s.service: trend(s.service, reports) for s in this.services},
        "now": now, "policies": policies})


async def suppliers(request: Request, client: AsyncReasonOpsClient, me: Me) -> Shown:
    reports = await _reports(request, client)
    this = reports[-1]
    contracts = (await client.supplier_contracts()).items
    year = this.month[:4]
    month_total: dict[str, Decimal] = defaultdict(Decimal)
    year_total: dict[str, Decimal] = defaultdict(Decimal)
    credits: dict[str, Decimal] = defaultdict(Decimal)
    for report in reports:
        for p in report.penalties:
            if report.month.startswith(year):
                year_total[p.contract_id] += p.amount
            if report is this:
                month_total[p.contract_id] += p.amount
                if p.kind == "availability":
                    credits[p.contract_id] += p.amount
    status = {}
    for c in contracts:
        if c.monthly_cap is not None and month_total[c.contract_id] >= c.monthly_cap:
            status[c.contract_id] = "cap reached"
        elif month_total[c.contract_id]:
            status[c.contract_id] = "penalties"
        else:
            status[c.contract_id] = "ok"
    return Shown("suppliers.html", {
        "month": this.month, "contracts": contracts, "standing": status,
        "month_total": month_total, "year_total": year_total, "credits": credits,
        "year": year, "penalties": list(this.penalties)})
