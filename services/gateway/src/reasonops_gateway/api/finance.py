"""``/api/finance``: the month's summary, the ledger (paginated), an entry's trace,
budgets against actuals, and accounting periods."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from reasonops_contracts.api import EntryPage
from reasonops_contracts.finance import (
    BudgetList,
    ClosePeriod,
    EntryTrace,
    FinanceSummary,
    GetBudgets,
    GetFinanceSummary,
    LedgerEntryList,
    ListLedgerEntries,
    ListPeriods,
    PeriodList,
    PeriodView,
    TraceEntry,
)
from reasonops_contracts.ids import MONTH_PATTERN

from .context import CallerDep, GatewayDep, decode_cursor, next_cursor

router = APIRouter(prefix="/api/finance", tags=["finance"])
MonthQuery = Annotated[str | None, Query(pattern=MONTH_PATTERN,
                                         description="YYYY-MM; default: this month")]


def _month(gateway: GatewayDep, month: str | None) -> str:
    return month or gateway.clock.now().strftime("%Y-%m")


@router.get("/summary", response_model=FinanceSummary, summary="A month's penalties and costs")
async def summary(caller: CallerDep, gateway: GatewayDep,
                  month: MonthQuery = None) -> FinanceSummary:
    return await gateway.ask(caller, GetFinanceSummary(month=_month(gateway, month)),
                             FinanceSummary)


@router.get("/entries", response_model=EntryPage, summary="Ledger entries, newest first")
async def entries(caller: CallerDep, gateway: GatewayDep,
                  month: Annotated[str | None, Query(pattern=MONTH_PATTERN)] = None,
                  incident_id: str | None = None,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                  cursor: Annotated[str | None, Query(max_length=512)] = None) -> EntryPage:
    filters: dict[str, Any] = {"month": month, "incident_id": incident_id}
    offset = decode_cursor(cursor, filters)
    found = await gateway.ask(caller, ListLedgerEntries(**filters, limit=limit, offset=offset),
                              LedgerEntryList)
    total = found.total if found.total is not None else offset + len(found.items)
    return EntryPage(items=found.items, total=total,
                     next_cursor=next_cursor(offset, len(found.items), total, filters))


@router.get("/entries/{entry_id}/trace", response_model=EntryTrace,
            summary="Why an entry was booked")
async def trace(caller: CallerDep, gateway: GatewayDep,
                entry_id: Annotated[str, Path(max_length=256)]) -> EntryTrace:
    return await gateway.ask(caller, TraceEntry(entry_id=entry_id), EntryTrace)


@router.get("/budgets", response_model=BudgetList, summary="Budget against actual")
async def budgets(caller: CallerDep, gateway: GatewayDep,
                  month: MonthQuery = None) -> BudgetList:
    return await gateway.ask(caller, GetBudgets(month=_month(gateway, month)), BudgetList)


@router.get("/periods", response_model=PeriodList, summary="Accounting periods")
async def periods(caller: CallerDep, gateway: GatewayDep) -> PeriodList:
    return await gateway.ask(caller, ListPeriods(), PeriodList)


@router.post("/periods/{month}/close", response_model=PeriodView,
             summary="Close an accounting month")
async def close(caller: CallerDep, gateway: GatewayDep,
                month: Annotated[str, Path(pattern=MONTH_PATTERN)]) -> PeriodView:
    return await gateway.ask(caller, ClosePeriod(month=month), PeriodView)
