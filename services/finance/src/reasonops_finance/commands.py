"""Finance commands: close a month's ledger period."""

from __future__ import annotations

from reasonops_contracts import Envelope
from reasonops_contracts.finance import (
    ClosePeriod,
    PeriodClosed,
    PeriodView,
)
from reasonops_runtime import Service
from reasonops_runtime.enforcement import Enforcer

from . import store
from .events import SOURCE


class FinanceCommands:
    """Close a month: later postings for it go to the next open month."""

    def __init__(self, service: Service, enforcer: Enforcer) -> None:
        self.service = service
        self.enforcer = enforcer

    async def close(self, command: ClosePeriod) -> PeriodView:
        now = self.service.clock.now()
        self.enforcer.require(command.actor, "finance.close_period", at=now, target=command.month)
        async with self.service.transaction() as tx:
            await store.hold_periods(tx.session, closing=True)
            if await store.close_period(tx.session, command.month, now, command.actor):
                event = PeriodClosed(month=command.month, closed_at=now, actor=command.actor)
                tx.emit(Envelope.wrap(event, source=SOURCE, subject=command.month))
            row = (await store.closed_periods(tx.session))[command.month]
            count = (await store.entry_counts(tx.session)).get(command.month, 0)
        return PeriodView(month=command.month, state="closed", closed_at=row.closed_at,
                          closed_by=row.closed_by, entries=count)

    def register(self) -> None:
        self.service.respond(ClosePeriod, self.close)
