"""Ledger entries -> the contract's events and read models."""

from __future__ import annotations

from collections.abc import Iterable

from reasonops_contracts.finance import (
    EntryTrace,
    LedgerEntryList,
    LedgerEntryPosted,
    PostingLine,
)

from .domain import Entry


def entry_event(entry: Entry) -> LedgerEntryPosted:
    return LedgerEntryPosted(
        entry_id=entry.entry_id, posted_at=entry.posted_at, period=entry.period,
        penalty_id=entry.penalty_id, incident_id=entry.incident_id, supplier=entry.supplier,
        service=entry.service, amount=entry.amount, currency=entry.currency,
        lines=[PostingLine(account=ln.account, debit=ln.debit, credit=ln.credit)
               for ln in entry.lines],
        causation_id=entry.causation_id, kind=entry.kind,
        causation_type=entry.causation_type, correlation_id=entry.correlation_id,
        original_period=entry.original_period, reference=entry.reference, memo=entry.memo)


def entry_list(entries: Iterable[Entry]) -> LedgerEntryList:
    return LedgerEntryList(items=[entry_event(e) for e in entries])


def entry_trace(entry: Entry, related: Iterable[Entry]) -> EntryTrace:
    what = ("supplier penalty " + (entry.penalty_id or "") if entry.kind == "penalty"
            else f"cost of incident {entry.incident_id}")
    origin = f"{what}: {entry.memo}" if entry.memo else what
    if entry.original_period:
        origin += f" ({entry.reference})"
    return EntryTrace(entry=entry_event(entry), causation_id=entry.causation_id,
                      causation_type=entry.causation_type, correlation_id=entry.correlation_id,
                      origin=origin,
                      related=[e.entry_id for e in related if e.entry_id != entry.entry_id])
