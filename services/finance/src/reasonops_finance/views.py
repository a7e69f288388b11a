"""Ledger entries -> the contract's events and read models."""

from __future__ import annotations

from collections.abc import Iterable

from reasonops_contracts.finance import (
    FinanceSummary,
    LedgerEntryList,
    LedgerEntryPosted,
    PostingLine,
    SummaryLine,
)

from .domain import Booking, Entry, summarise


def entry_event(entry: Entry) -> LedgerEntryPosted:
    return LedgerEntryPosted(
        entry_id=entry.entry_id, posted_at=entry.posted_at, period=entry.period,
        penalty_id=entry.penalty_id, incident_id=entry.incident_id, supplier=entry.supplier,
        service=entry.service, amount=entry.amount, currency=entry.currency,
        lines=[PostingLine(account=ln.account, debit=ln.debit, credit=ln.credit)
               for ln in entry.lines],
        causation_id=entry.causation_id)


def entry_list(entries: Iterable[Entry]) -> LedgerEntryList:
    return LedgerEntryList(items=[entry_event(e) for e in entries])


def finance_summary(month: str, bookings: Iterable[Booking]) -> FinanceSummary:
    rows, totals, count = summarise(bookings)
    return FinanceSummary(
        month=month, totals=totals, entries=count,
        lines=[SummaryLine(supplier=r.supplier, service=r.service, currency=r.currency,
                           amount=r.amount, entries=r.entries) for r in rows])
