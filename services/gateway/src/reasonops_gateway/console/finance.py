"""Finance: a month's summary (budget, actual, penalties, incident costs, late entries)
with its CSV, the ledger entries and why each was booked, and the accounting periods."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reasonops_contracts.api import Me
from reasonops_contracts.finance import FinanceSummary
from reasonops_sdk import AsyncReasonOpsClient
from reasonops_sdk.errors import ApiError

from . import session
from .frame import Console, Shown

ENTRIES_PER_PAGE = 50
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def routes(console: Console) -> list[Route]:
    async def finance_page(request: Request) -> Response:
        return await console.show(request, summary)

    async def entry_page(request: Request) -> Response:
        return await console.show(request, entry)

    async def csv_export(request: Request) -> Response:
        token = session.token_of(request)
        if token is None:
            return console.to_login(request)
        async with console.client(token) as client:
            try:
                found = await client.finance_summary(_month(request))
            except ApiError as exc:
                return console.failure(request, exc, None)
        return Response(summary_csv(found), media_type="text/csv", headers={
            "Content-Disposition": f'attachment; filename="finance-{found.month}.csv"'})

    async def close(request: Request) -> Response:
        month = request.path_params["month"]

        async def run(client: AsyncReasonOpsClient, form: FormData) -> None:
            if form.get("confirm") != month:
                raise _Unconfirmed(month)
            await client.close_period(month)

        try:
            return await console.perform(request, run, back=f"/finance?month={month}",
                                         done="close", again=summary)
        except _Unconfirmed:
            return await console.show(request, summary, status=422, error=(
                f"confirm: type {month} to close it; nothing was changed"))

    return [Route("/finance", finance_page), Route("/finance.csv", csv_export),
            Route("/finance/entries/{entry_id}", entry_page),
            Route("/finance/periods/{month}/close", close, methods=["POST"])]


class _Unconfirmed(Exception):
    """A period close without its confirmation."""


def _month(request: Request) -> str | None:
    month = request.query_params.get("month") or request.path_params.get("month")
    return month if month and MONTH.match(month) else None


async def summary(request: Request, client: AsyncReasonOpsClient, me: Me) -> Shown:
    found = await client.finance_summary(_month(request))
    entries = await client.list_entries(month=found.month, limit=ENTRIES_PER_PAGE,
                                        cursor=request.query_params.get("cursor") or None)
    periods = await client.periods()
    return Shown("finance.html", {
        "summary": found, "entries": entries, "periods": periods,
        "may_close": me.can.get("finance.close_period", False),
        "bars": {"supplier": _bars(found.penalties_by_supplier, "amount"),
                 "service": _bars(found.penalties_by_service, "amount"),
                 "cost": _bars(found.incident_cost_by_service, "total")}})


async def entry(request: Request, client: AsyncReasonOpsClient, me: Me) -> Shown:
    return Shown("entry.html", {"trace": await client.trace_entry(
        request.path_params["entry_id"])})


def _bars(rows: list[Any], amount: str) -> dict[int, float]:
    """Each row's share of the largest of its currency, in percent, for a bar chart."""
    largest: dict[str, float] = {}
    for row in rows:
        largest[row.currency] = max(largest.get(row.currency, 0.0), float(getattr(row, amount)))
    return {i: (100 * float(getattr(r, amount)) / largest[r.currency]
                if largest[r.currency] else 0.0) for i, r in enumerate(rows)}


def _cell(name: str) -> str:
    """A name as a spreadsheet shows it, never as a formula it runs."""
    return "'" + name if name[:1] in ("=", "+", "-", "@", "\t", "\r") else name


def summary_csv(found: FinanceSummary) -> str:
    """The summary as one table a spreadsheet opens: section, name, currency, figures."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["month", "section", "name", "currency", "amount", "budget", "variance",
                     "entries"])
    for b in found.budgets:
        writer.writerow([found.month, f"budget ({b.scope})", _cell(b.name), b.currency, b.actual,
                         b.budget, b.variance, ""])
    for p in found.penalties_by_supplier:
        writer.writerow([found.month, "penalties by supplier", _cell(p.name), p.currency, p.amount,
                         "", "", p.entries])
    for p in found.penalties_by_service:
        writer.writerow([found.month, "penalties by service", _cell(p.name), p.currency, p.amount,
                         "", "", p.entries])
    for c in found.incident_cost_by_service:
        writer.writerow([found.month, "incident cost by service", _cell(c.service), c.currency,
                         c.total, "", "", c.incidents])
    for i in found.top_incidents:
        writer.writerow([found.month, "costliest incidents", _cell(i.incident_id), i.currency,
                         i.amount, "", "", ""])
    return out.getvalue()
