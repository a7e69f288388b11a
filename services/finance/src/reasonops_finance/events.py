"""Ledger entries -> the events finance publishes."""

from __future__ import annotations

from reasonops_contracts.finance import LedgerEntryPosted, PostingLine

from .domain import Entry

SOURCE = "finance"
"""The source of every event finance publishes."""


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
