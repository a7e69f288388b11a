"""What a clock's change entails, carried out in the message's transaction: its row, its
durable timer, the events that say so (started, met, breached) and, under a supplier
contract, the penalties. The handlers decide which clocks change; nothing here does."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime

from reasonops_contracts import Envelope, Event
from reasonops_runtime import Timer, Transaction
from reasonops_runtime.store import NewTimer

from . import store
from .availability import month_of
from .domain import Kind, SlaClock
from .events import breached_event, met_event, penalty_event, started_event
from .metrics import SlmMetrics
from .penalties import SupplierContract, assess_overrun, assess_penalty, contract_for

SOURCE = "slm"
DEADLINE_TIMER = "sla-deadline"

Wrap = Callable[[Event], Envelope]


def timer_id(clock_id: str) -> str:
    return f"{DEADLINE_TIMER}:{clock_id}"


def caused_by(envelope: Envelope, incident_id: str) -> Wrap:
    return lambda event: envelope.caused(event, source=SOURCE, subject=incident_id)


def from_timer(timer: Timer, incident_id: str) -> Wrap:
    # The timer carries the ids of the message that armed it, so the chain stays whole.
    return lambda event: Envelope.wrap(event, source=SOURCE, subject=incident_id,
                                       correlation_id=timer.correlation_id,
                                       causation_id=timer.causation_id)


class ClockShell:
    contracts: Sequence[SupplierContract]
    metrics: SlmMetrics

    async def _arm(self, tx: Transaction, clock: SlaClock, envelope: Envelope) -> None:
        due, _ = clock.next_check()
        await tx.schedule(timer_id(clock.clock_id), DEADLINE_TIMER, due,
                          {"clock_id": clock.clock_id},
                          correlation_id=envelope.correlation_id, causation_id=envelope.id)

    async def _start(self, tx: Transaction, started: list[tuple[Envelope, SlaClock]]) -> None:
        """Store new clocks, arm a timer each (ids are new) and announce them."""
        await store.add_clocks(tx.session, [clock for _, clock in started])
        await tx.schedule_new([
            NewTimer(timer_id(clock.clock_id), DEADLINE_TIMER, clock.next_check()[0],
                     {"clock_id": clock.clock_id}, envelope.correlation_id, envelope.id)
            for envelope, clock in started])
        for envelope, clock in started:
            event = started_event(clock)
            tx.emit(envelope.caused(event, source=SOURCE, subject=clock.incident_id))
            self.metrics.started.labels(clock.kind, f"P{clock.priority}").inc()

    async def _stop_clocks(self, tx: Transaction, envelope: Envelope, incident_id: str,
                           clocks: list[SlaClock], kinds: Collection[Kind],
                           at: datetime, *, save: bool = True) -> list[SlaClock]:
        """Stop ``clocks`` of ``kinds`` at ``at`` (met, or breached late) and say so; the
        clocks that stopped are returned (saved, their timers cancelled, unless not
        ``save``: the caller writes them)."""
        wrap = caused_by(envelope, incident_id)
        stopped = []
        for clock in clocks:
            if clock.kind not in kinds:
                continue
            result = clock.stop(at)
            if result is None:
                continue
            stopped.append(clock)
            if save:
                await tx.cancel(timer_id(clock.clock_id))
                await store.save_clock(tx.session, clock)
            if result == "met" and clock.stopped_at is not None:
                event = met_event(clock, clock.stopped_at)
                tx.emit(wrap(event))
                self.metrics.met.labels(clock.kind, f"P{clock.priority}").inc()
            elif result == "breached":  # stopped late, before the timer noticed
                await self._breached(tx, clock, wrap)
            if clock.state == "breached":
                await self._overrun(tx, clock, wrap, at)
        return stopped

    async def _breached(self, tx: Transaction, clock: SlaClock, wrap: Wrap) -> None:
        """Emit the breach (at the deadline, exactly) and, under a contract, its penalty."""
        event = breached_event(clock, clock.deadline)
        breach = wrap(event)
        tx.emit(breach)
        self.metrics.breached.labels(clock.kind, f"P{clock.priority}", clock.service or "").inc()
        contract = contract_for(self.contracts, clock.service)
        if contract is None:
            return
        already = await store.charged(tx.session, contract.contract_id,
                                      month_of(clock.deadline))
        penalty = assess_penalty(clock, self.contracts, clock.deadline, already=already)
        if penalty is not None and await store.add_penalty(tx.session, penalty):
            assessed = penalty_event(penalty)
            tx.emit(breach.caused(assessed, source=SOURCE, subject=clock.incident_id))
            self.metrics.charged(penalty.supplier, penalty.currency, penalty.amount)

    async def _overrun(self, tx: Transaction, clock: SlaClock, wrap: Wrap, at: datetime
                       ) -> None:
        """The per-started-hour penalty, once the breached clock's overrun is known."""
        contract = contract_for(self.contracts, clock.service)
        if contract is None or not contract.per_hour:
            return
        already = await store.charged(tx.session, contract.contract_id, month_of(at))
        penalty = assess_overrun(clock, self.contracts, at, already=already)
        if penalty is not None and await store.add_penalty(tx.session, penalty):
            assessed = penalty_event(penalty)
            tx.emit(wrap(assessed))
            self.metrics.charged(penalty.supplier, penalty.currency, penalty.amount)
