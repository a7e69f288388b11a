"""Month ends: a durable timer per month assesses availability credits; the monthly report.

The first incident of a month arms that month's timer (due at the first instant of
the next month, UTC); when it fires, every covered service's month is measured,
credits are charged up to the contract's cap, and the next month's timer is armed,
so a quiet month is still assessed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import update

from reasonops_contracts import Envelope
from reasonops_contracts.slm import GetSlaReport, MonthAssessed, SlaReport
from reasonops_runtime import Clock, Timer, Transaction
from reasonops_runtime.store import NewTimer, Session

from . import facts, store
from .availability import ServiceMonth, Span, month_bounds, next_month, service_month
from .config import SlaConfig
from .events import penalty_event
from .metrics import SlmMetrics
from .penalties import SupplierContract, assess_availability
from .views import month_view

MONTH_END_TIMER = "sla-month-end"
SOURCE = "slm"


class MonthEnd:
    def __init__(self, *, config: SlaConfig, contracts: Sequence[SupplierContract],
                 clock: Clock, metrics: SlmMetrics) -> None:
        self.config = config
        self.contracts = contracts
        self.clock = clock
        self.metrics = metrics

    async def ensure(self, tx: Transaction, wanted: dict[str, Envelope | None]) -> None:
        """Arm the month-end timer of every month in ``wanted`` not armed before; each
        month maps to the event that arms it (None: the work under way, such as the
        firing of the previous month's timer), whose trace the assessment continues."""
        new = set(wanted) - await facts.known_months(tx.session, set(wanted))
        await facts.add_months(tx.session, new)
        timers = []
        for month in sorted(new):
            cause = wanted[month]
            timers.append(NewTimer(f"{MONTH_END_TIMER}:{month}", MONTH_END_TIMER,
                                   month_bounds(month)[1], {"month": month},
                                   correlation_id=cause.correlation_id if cause else None,
                                   causation_id=cause.id if cause else None))
        await tx.schedule_new(timers)

    async def measure(self, session: Session, month: str, service: str | None,
                      now: datetime, bounds: Span | None = None) -> list[ServiceMonth]:
        """Each service's figures for ``month``, or for ``bounds`` labelled ``month``."""
        start, end = bounds or month_bounds(month)
        covered = {s for c in self.contracts for s in c.services}
        services = ({service} if service else
                    covered | await facts.services_seen(session))
        outages = await facts.outages_between(session, start, end)
        incidents = await facts.incidents_between(session, start, end)
        breaches = await facts.breach_counts(session, start, end)
        return [service_month(service=s, month=month, outages=outages, incidents=incidents,
                              maintenance=self.config.maintenance,
                              breaches=breaches.get(s, 0), now=now, bounds=(start, end),
                              slo=self.config.slo_for(s), weights=self.config.impact_weights)
                for s in sorted(services)]

    async def on_month_end(self, tx: Transaction, timer: Timer) -> None:
        month = str(timer.payload["month"])
        end = month_bounds(month)[1]
        figures = await self.measure(tx.session, month, None, end)
        assessed = MonthAssessed(month=month, services=[month_view(f) for f in figures],
                                 assessed_at=end)
        envelope = Envelope.wrap(assessed, source=SOURCE, subject=month)
        # Credits belong to the month they are for: dated its last second.
        at = end - timedelta(seconds=1)
        by_service = {f.service: f for f in figures}
        for contract in self.contracts:
            for service in sorted(contract.services):
                already = await store.charged(tx.session, contract.contract_id, month)
                penalty = assess_availability(contract, service, month,
                                              by_service[service].availability, at,
                                              already=already)
                if penalty is not None and await store.add_penalty(tx.session, penalty):
                    event = penalty_event(penalty)
                    tx.emit(envelope.caused(event, source=SOURCE, subject=service))
                    self.metrics.charged(penalty.supplier, penalty.currency, penalty.amount)
        tx.emit(envelope)  # last: whoever waits for it sees the credits
        await tx.session.execute(update(store.months).where(store.months.c.month == month)
                                 .values(assessed_at=self.clock.now()))
        await self.ensure(tx, {next_month(month): None})

    async def report(self, session: Session, query: GetSlaReport) -> SlaReport:
        now = self.clock.now()
        if query.period_days is not None:
            label, bounds = f"last-{query.period_days}d", (
                now - timedelta(days=query.period_days), now)
            found = await store.penalties_between(session, *bounds)
        else:
            label, bounds = str(query.month), month_bounds(str(query.month))
            found = await store.penalties_in(session, label)
        figures = await self.measure(session, label, query.service, now, bounds)
        penalties = [p for p in found if query.service in (None, p.service)]
        return SlaReport(month=label, services=[month_view(f) for f in figures],
                         penalties=[penalty_event(p) for p in penalties],
                         start=bounds[0], end=min(bounds[1], now))
