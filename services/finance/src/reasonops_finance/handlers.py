"""Penalties in, ledger entries out; the summary and entry-list queries."""

from __future__ import annotations

import logging

from prometheus_client import CollectorRegistry, Counter

from reasonops_contracts import Envelope, new_id
from reasonops_contracts.finance import (
    FinanceSummary,
    GetFinanceSummary,
    LedgerEntryList,
    ListLedgerEntries,
)
from reasonops_contracts.slm import PenaltyAssessed
from reasonops_runtime import Clock, EventRouter, Service, Transaction

from . import store
from .domain import penalty_entry
from .views import entry_event, entry_list, finance_summary

log = logging.getLogger(__name__)

SOURCE = "finance"
CONSUMER = "finance"


class FinanceMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.posted = Counter("reasonops_ledger_entries_posted_total",
                              "Ledger entries posted for supplier penalties",
                              ["currency"], registry=registry)
        self.amount = Counter("reasonops_ledger_posted_amount_total",
                              "Sum of penalty entries posted, in the currency",
                              ["supplier", "currency"], registry=registry)
        self.duplicates = Counter("reasonops_ledger_duplicate_penalties_total",
                                  "Penalties received again under a new message id and "
                                  "not booked twice", registry=registry)


class PenaltyPosting:
    """Books each assessed penalty exactly once."""

    def __init__(self, *, clock: Clock, metrics: FinanceMetrics) -> None:
        self.clock = clock
        self.metrics = metrics

    def router(self) -> EventRouter:
        router = EventRouter()
        router.on(PenaltyAssessed)(self.assessed)
        return router

    async def assessed(self, tx: Transaction, envelope: Envelope,
                       event: PenaltyAssessed) -> None:
        # The inbox already dropped redeliveries of this message id; this catches the
        # same penalty published again under another id.
        if await store.has_penalty(tx.session, event.penalty_id):
            self.metrics.duplicates.inc()
            return
        if event.amount == 0:
            log.info("zero penalty not booked", extra={"penalty_id": event.penalty_id})
            return
        entry = penalty_entry(
            entry_id=new_id(), penalty_id=event.penalty_id, incident_id=event.incident_id,
            supplier=event.supplier, service=event.service, amount=event.amount,
            currency=event.currency, assessed_at=event.assessed_at,
            posted_at=self.clock.now(), causation_id=envelope.id)
        await store.add_entry(tx.session, entry)
        posted = entry_event(entry)
        tx.emit(envelope.caused(posted, source=SOURCE, subject=entry.entry_id), posted.SUBJECT)
        self.metrics.posted.labels(entry.currency).inc()
        self.metrics.amount.labels(entry.supplier, entry.currency).inc(float(entry.amount))


def register_queries(service: Service) -> None:
    async def summary(query: GetFinanceSummary) -> FinanceSummary:
        async with service.store.read() as session:
            bookings = await store.bookings_in(session, query.month)
        return finance_summary(query.month, bookings)

    async def entries(query: ListLedgerEntries) -> LedgerEntryList:
        async with service.store.read() as session:
            found = await store.find_entries(session, month=query.month,
                                             incident_id=query.incident_id, limit=query.limit)
        return entry_list(found)

    service.respond(GetFinanceSummary, summary)
    service.respond(ListLedgerEntries, entries)
