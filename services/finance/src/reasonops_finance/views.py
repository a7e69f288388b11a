"""Ledger entries -> the contract's read models (an entry reads as the event that
posted it)."""

from __future__ import annotations

from collections.abc import Iterable

from reasonops_contracts.finance import (
    EntryTrace,
    LedgerEntryList,
)

from .domain import Entry
from .events import entry_event


def entry_list(entries: Iterable[Entry], *, total: int | None = None,
               offset: int = 0) -> LedgerEntryList:
    return LedgerEntryList(items=[entry_event(e) for e in entries], total=total, offset=offset)


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
