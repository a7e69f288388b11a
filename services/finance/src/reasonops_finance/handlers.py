"""Penalties and closed incidents in, balanced ledger entries out.

Each source (a penalty id, an incident's cost) is booked once: the inbox drops
redeliveries of a message id, and a unique source key drops the same source
published again under another id. An entry for a closed month goes to the next
open month, with a reference to the month it belongs to.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from reasonops_contracts import Envelope, durables, new_id
from reasonops_contracts.catalog import ServiceCatalog
from reasonops_contracts.incidents import (
    IncidentAcknowledged,
    IncidentClosed,
    IncidentOpened,
    IncidentPriorityChanged,
    IncidentReopened,
    IncidentResolved,
)
from reasonops_contracts.slm import PenaltyAssessed
from reasonops_runtime import Clock, EventRouter, Transaction

from . import store
from .config import CostRates
from .costs import incident_cost
from .domain import Entry, cost_entry, penalty_entry, posting_period
from .events import SOURCE, entry_event
from .metrics import FinanceMetrics

log = logging.getLogger(__name__)

CONSUMER = durables.FINANCE_SLM
INCIDENTS_CONSUMER = durables.FINANCE_INCIDENTS


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
        if await store.has_source(tx.session, event.penalty_id):
            self.metrics.duplicates.inc()
            return
        if event.amount == 0:
            log.info("zero penalty not booked", extra={"penalty_id": event.penalty_id})
            return
        entry = penalty_entry(
            entry_id=new_id(), penalty_id=event.penalty_id, incident_id=event.incident_id or "",
            supplier=event.supplier, service=event.service, amount=event.amount,
            currency=event.currency, assessed_at=event.assessed_at,
            posted_at=self.clock.now(), causation_id=envelope.id)
        entry = _dated(entry, envelope, incident_id=event.incident_id, memo=event.reason)
        await post(tx, envelope, entry, self.metrics)
        self.metrics.posted.labels(entry.currency).inc()
        self.metrics.amount.labels(event.supplier, entry.currency).inc(float(entry.amount))


def _dated(entry: Entry, envelope: Envelope, *, incident_id: str | None, memo: str) -> Entry:
    return replace(entry, incident_id=incident_id, causation_type=envelope.type,
                   correlation_id=envelope.correlation_id, memo=memo)


async def post(tx: Transaction, envelope: Envelope, entry: Entry,
               metrics: FinanceMetrics) -> None:
    """Write ``entry`` in its month, or the next open one, and announce it."""
    await store.hold_periods(tx.session, closing=False)
    period, original = posting_period(entry.period,
                                      set(await store.closed_periods(tx.session)))
    if original is not None:
        entry = replace(entry, period=period, original_period=original,
                        reference=f"belongs to closed period {original}")
        metrics.late.inc()
    await store.add_entry(tx.session, entry)
    posted = entry_event(entry)
    tx.emit(envelope.caused(posted, source=SOURCE, subject=entry.entry_id))


class IncidentCosting:
    """Follows incidents and books what each cost when it closes."""

    def __init__(self, *, clock: Clock, metrics: FinanceMetrics, rates: CostRates,
                 catalog: ServiceCatalog) -> None:
        self.clock = clock
        self.metrics = metrics
        self.rates = rates
        self.catalog = catalog

    def router(self) -> EventRouter:
        router = EventRouter()
        router.on_many(IncidentOpened)(self.opened)
        router.on(IncidentAcknowledged)(self.acknowledged)
        router.on(IncidentResolved)(self.resolved)
        router.on(IncidentReopened)(self.reopened)
        router.on(IncidentClosed)(self.closed)
        router.on(IncidentPriorityChanged)(self.priority_changed)
        return router

    async def priority_changed(self, tx: Transaction, envelope: Envelope,
                               event: IncidentPriorityChanged) -> None:
        """Effort is staffed by the priority the incident ends with."""
        await store.update_incident(tx.session, event.incident_id, priority=event.priority)

    async def opened(self, tx: Transaction, batch: list[tuple[Envelope, IncidentOpened]]) -> None:
        """Every incident opened in the batch, followed from its first alert."""
        await store.add_incidents(tx.session, [
            {"incident_id": e.incident_id, "service": e.service, "priority": e.priority,
             "opened_at": min(e.first_alert_at or e.opened_at, e.opened_at),
             "reported_at": e.opened_at}
            for _, e in batch])

    async def acknowledged(self, tx: Transaction, envelope: Envelope,
                           event: IncidentAcknowledged) -> None:
        row = await store.get_incident(tx.session, event.incident_id)
        if row is not None and row.acknowledged_at is None:
            await store.update_incident(tx.session, event.incident_id,
                                        acknowledged_at=event.acknowledged_at)

    async def resolved(self, tx: Transaction, envelope: Envelope,
                       event: IncidentResolved) -> None:
        await store.update_incident(tx.session, event.incident_id,
                                    resolved_at=event.resolved_at)

    async def reopened(self, tx: Transaction, envelope: Envelope,
                       event: IncidentReopened) -> None:
        await store.update_incident(tx.session, event.incident_id, resolved_at=None)

    async def closed(self, tx: Transaction, envelope: Envelope, event: IncidentClosed) -> None:
        """Book the cost once, at the first close: downtime plus effort."""
        row = await store.get_incident(tx.session, event.incident_id)
        key = f"COST-{event.incident_id}"
        if row is None or row.service is None or await store.has_source(tx.session, key):
            return
        entry_service = self.catalog.get(row.service)
        cost = incident_cost(rates=self.rates, tier=entry_service.tier if entry_service else 3,
                             priority=row.priority, opened_at=row.opened_at,
                             acknowledged_at=row.acknowledged_at,
                             resolved_at=row.resolved_at or event.closed_at,
                             reported_at=row.reported_at)
        if cost.total <= 0:
            return
        entry = cost_entry(entry_id=new_id(), incident_id=event.incident_id,
                           service=row.service, downtime=cost.downtime, effort=cost.effort,
                           currency=self.rates.currency, closed_at=event.closed_at,
                           posted_at=self.clock.now(), causation_id=envelope.id,
                           memo=cost.memo)
        entry = _dated(entry, envelope, incident_id=event.incident_id, memo=cost.memo)
        await post(tx, envelope, entry, self.metrics)
        self.metrics.incident_cost.labels(row.service, entry.currency).inc(float(entry.amount))
