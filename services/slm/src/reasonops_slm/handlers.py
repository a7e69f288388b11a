"""Incident events start and stop SLA clocks; durable timers catch the deadlines.

Every running clock has a timer row at its deadline. Stopping the clock deletes the
row; a row that fires finds the clock still running and breaches it. Because the
rows live in the store, a deadline that passed while the service was down fires as
soon as it is back.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter

from reasonops_contracts import Envelope, Event
from reasonops_contracts.incidents import (
    IncidentAcknowledged,
    IncidentClosed,
    IncidentOpened,
    IncidentReopened,
    IncidentResolved,
)
from reasonops_contracts.slm import GetSlaStatus, SlaStatus
from reasonops_runtime import Clock, EventRouter, Service, Timer, Transaction, tracing
from reasonops_runtime.store import NewTimer

from . import store
from .domain import (
    KINDS,
    Kind,
    PolicyBook,
    SlaClock,
    SupplierContract,
    assess_penalty,
    next_generation,
    start_clock,
)
from .views import breached_event, met_event, penalty_event, sla_status, started_event

SOURCE = "slm"
CONSUMER = "slm"
DEADLINE_TIMER = "sla-deadline"

Wrap = Callable[[Event], Envelope]
_RESPONSE: tuple[Kind, ...] = ("response",)


class SlmMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.started = Counter("reasonops_sla_clocks_started_total", "SLA clocks started",
                               ["kind", "priority"], registry=registry)
        self.met = Counter("reasonops_sla_clocks_met_total", "SLA clocks stopped within target",
                           ["kind", "priority"], registry=registry)
        self.breached = Counter("reasonops_sla_breaches_total", "SLA clocks breached",
                                ["kind", "priority", "service"], registry=registry)
        self.penalties = Counter("reasonops_sla_penalties_total", "Supplier penalties assessed",
                                 ["supplier", "currency"], registry=registry)
        self.penalty_amount = Counter("reasonops_sla_penalty_amount_total",
                                      "Sum of supplier penalties assessed, in the currency",
                                      ["supplier", "currency"], registry=registry)


def timer_id(clock_id: str) -> str:
    return f"{DEADLINE_TIMER}:{clock_id}"


def _caused_by(envelope: Envelope, incident_id: str) -> Wrap:
    return lambda event: envelope.caused(event, source=SOURCE, subject=incident_id)


def _from_timer(timer: Timer, incident_id: str) -> Wrap:
    # The timer carries the ids of the message that armed it, so the chain stays whole.
    return lambda event: Envelope.wrap(event, source=SOURCE, subject=incident_id,
                                       correlation_id=timer.correlation_id,
                                       causation_id=timer.causation_id)


class SlaClocks:
    """The SLM consumer's handlers and the deadline timer's handler."""

    def __init__(self, *, policies: PolicyBook, contracts: Sequence[SupplierContract],
                 clock: Clock, metrics: SlmMetrics) -> None:
        self.policies = policies
        self.contracts = contracts
        self.clock = clock
        self.metrics = metrics

    def router(self) -> EventRouter:
        router = EventRouter()
        router.on_many(IncidentOpened)(self.opened)
        router.on(IncidentAcknowledged)(self.acknowledged)
        router.on(IncidentResolved)(self.resolved)
        router.on(IncidentReopened)(self.reopened)
        router.on(IncidentClosed)(self.closed)
        return router

    async def opened(self, tx: Transaction,
                     batch: list[tuple[Envelope, IncidentOpened]]) -> None:
        """Start both clocks of every incident in a run of openings, with bulk writes:
        in an alert storm this is the hot path."""
        started = await store.incidents_with_clocks(tx.session,
                                                    {e.incident_id for _, e in batch})
        fresh: list[tuple[Envelope, SlaClock]] = []
        for envelope, event in batch:
            if event.incident_id in started:
                continue  # the same opening again, under another message id
            started.add(event.incident_id)
            policy = self.policies.for_priority(event.priority)
            fresh += [(envelope, start_clock(
                incident_id=event.incident_id, kind=kind, generation=1, policy=policy,
                service=event.service, started_at=event.opened_at)) for kind in KINDS]
        await self._start(tx, fresh)

    async def acknowledged(self, tx: Transaction, envelope: Envelope,
                           event: IncidentAcknowledged) -> None:
        await self._stop(tx, envelope, event.incident_id, _RESPONSE, event.acknowledged_at)

    async def resolved(self, tx: Transaction, envelope: Envelope,
                       event: IncidentResolved) -> None:
        # Resolving also answers an incident nobody acknowledged: both clocks stop.
        await self._stop(tx, envelope, event.incident_id, KINDS, event.resolved_at)

    async def reopened(self, tx: Transaction, envelope: Envelope,
                       event: IncidentReopened) -> None:
        """A new resolution clock from the reopen time, under today's policy for the priority."""
        existing = await store.clocks_for(tx.session, event.incident_id)
        resolution = [c for c in existing if c.kind == "resolution"]
        if not existing or any(c.running or c.started_at == event.reopened_at
                               for c in resolution):
            return  # opened before we were listening, or this reopen was already handled
        last = existing[-1]
        await self._start(tx, [(envelope, start_clock(
            incident_id=event.incident_id, kind="resolution",
            generation=next_generation(existing, "resolution"),
            policy=self.policies.for_priority(last.priority), service=last.service,
            started_at=event.reopened_at))])

    async def closed(self, tx: Transaction, envelope: Envelope, event: IncidentClosed) -> None:
        """Closing ends whatever still runs (normally nothing: resolve stopped both)."""
        for clock in await store.clocks_for(tx.session, event.incident_id):
            if clock.cancel(event.closed_at):
                await tx.cancel(timer_id(clock.clock_id))
                await store.save_clock(tx.session, clock)

    async def on_deadline(self, tx: Transaction, timer: Timer) -> None:
        clock = await store.get_clock(tx.session, str(timer.payload["clock_id"]))
        with tracing.span("sla.evaluate", attributes={"reasonops.sla.clock_id": str(
                timer.payload["clock_id"])}) as span:
            breached = clock is not None and clock.breach(self.clock.now())
            span.set_attribute("reasonops.sla.breached", breached)
        if clock is None or not breached:
            return  # stopped in the meantime
        await store.save_clock(tx.session, clock)
        await self._breached(tx, clock, _from_timer(timer, clock.incident_id))

    async def _start(self, tx: Transaction, started: list[tuple[Envelope, SlaClock]]) -> None:
        """Store new clocks, arm a deadline timer each (ids are new: incident, kind and
        generation) and announce them."""
        await store.add_clocks(tx.session, [clock for _, clock in started])
        await tx.schedule_new([
            NewTimer(timer_id(clock.clock_id), DEADLINE_TIMER, clock.deadline,
                     {"clock_id": clock.clock_id}, envelope.correlation_id, envelope.id)
            for envelope, clock in started])
        for envelope, clock in started:
            event = started_event(clock)
            tx.emit(envelope.caused(event, source=SOURCE, subject=clock.incident_id),
                    event.SUBJECT)
            self.metrics.started.labels(clock.kind, f"P{clock.priority}").inc()

    async def _stop(self, tx: Transaction, envelope: Envelope, incident_id: str,
                    kinds: Collection[Kind], at: datetime) -> None:
        wrap = _caused_by(envelope, incident_id)
        for clock in await store.clocks_for(tx.session, incident_id):
            if clock.kind not in kinds:
                continue
            result = clock.stop(at)
            if result is None:
                continue
            await tx.cancel(timer_id(clock.clock_id))
            await store.save_clock(tx.session, clock)
            if result == "met" and clock.stopped_at is not None:
                event = met_event(clock, clock.stopped_at)
                tx.emit(wrap(event), event.SUBJECT)
                self.metrics.met.labels(clock.kind, f"P{clock.priority}").inc()
            elif result == "breached":  # stopped late, before the timer noticed
                await self._breached(tx, clock, wrap)

    async def _breached(self, tx: Transaction, clock: SlaClock, wrap: Wrap) -> None:
        """Emit the breach and, when a contract covers the service, its penalty."""
        now = self.clock.now()
        event = breached_event(clock, now)
        breach = wrap(event)
        tx.emit(breach, event.SUBJECT)
        self.metrics.breached.labels(clock.kind, f"P{clock.priority}", clock.service or "").inc()
        penalty = assess_penalty(clock, self.contracts, now)
        if penalty is None:
            return
        await store.add_penalty(tx.session, penalty)
        assessed = penalty_event(penalty)
        tx.emit(breach.caused(assessed, source=SOURCE, subject=clock.incident_id),
                assessed.SUBJECT)
        self.metrics.penalties.labels(penalty.supplier, penalty.currency).inc()
        self.metrics.penalty_amount.labels(penalty.supplier, penalty.currency).inc(
            float(penalty.amount))


def register_queries(service: Service) -> None:
    async def status(query: GetSlaStatus) -> SlaStatus:
        async with service.store.read() as session:
            clocks = await store.clocks_for(session, query.incident_id)
            penalties = await store.penalties_for(session, query.incident_id)
        return sla_status(query.incident_id, clocks, penalties, service.clock.now())

    service.respond(GetSlaStatus, status)
