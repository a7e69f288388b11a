"""Finance: ledger postings and summaries. Money is Decimal, never float."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import Field

from . import subjects
from .messages import Event, Query, View

MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"


class PostingLine(View):
    account: str
    debit: Decimal = Decimal("0")
    credit: Decimal = Decimal("0")


class LedgerEntryPosted(Event):
    TYPE = "itsm.finance.entry.posted.v1"
    SUBJECT = subjects.FINANCE_ENTRY_POSTED

    entry_id: str
    posted_at: datetime
    period: str = Field(pattern=MONTH_PATTERN)
    penalty_id: str
    incident_id: str
    supplier: str
    service: str
    amount: Decimal
    currency: str
    lines: list[PostingLine]
    causation_id: str


class GetFinanceSummary(Query):
    SUBJECT = subjects.FINANCE_QUERY_SUMMARY

    month: str = Field(pattern=MONTH_PATTERN)


class SummaryLine(View):
    supplier: str
    service: str
    currency: str
    amount: Decimal
    entries: int


class FinanceSummary(View):
    month: str
    lines: list[SummaryLine]
    totals: dict[str, Decimal]
    entries: int


class ListLedgerEntries(Query):
    SUBJECT = subjects.FINANCE_QUERY_ENTRIES

    month: str | None = Field(default=None, pattern=MONTH_PATTERN)
    incident_id: str | None = None
    limit: int = Field(default=100, ge=1, le=1000)


class LedgerEntryList(View):
    items: list[LedgerEntryPosted]
