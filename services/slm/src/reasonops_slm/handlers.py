"""Incident events start, pause, resume, retarget and stop SLA clocks; durable timers
announce at-risk thresholds and catch the deadlines.

Every running, unpaused clock has one timer row, due at its next at-risk threshold
(50, 75, 90%) or, after the last, at its deadline. Stopping or pausing the clock
deletes the row; a row that fires finds the clock still running, announces what it
reached and re-arms, or breaches. The rows live in the store, so a deadline that
passed while the service was down fires as soon as it is back, and deleting the row
is the claim, so with several replicas exactly one fires it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from reasonops_contracts import Envelope, durables
from reasonops_contracts.incidents import (
    IncidentAcknowledged,
    IncidentAssigned,
    IncidentClosed,
    IncidentHeld,
    IncidentOpened,
    IncidentPriorityChanged,
    IncidentReopened,
    IncidentResolved,
    IncidentResumed,
)
from reasonops_runtime import Clock, EventRouter, Timer, Transaction, tracing

from . import facts, store
from .availability import month_of
from .config import SlaConfig
from .domain import KINDS, Kind, SlaClock, SlaPolicy, next_generation, start_clock
from .events import (
    at_risk_event,
    paused_event,
    resumed_event,
)
from .metrics import SlmMetrics
from .monthly import MonthEnd
from .penalties import SupplierContract, contract_for
from .shell import DEADLINE_TIMER, ClockShell, caused_by, from_timer, timer_id

CONSUMER = durables.SLM_INCIDENTS
_RESPONSE: tuple[Kind, ...] = ("response",)


class SlaClocks(ClockShell):
    """The SLM consumer's handlers and the clock timer's handler; what a clock's change
    entails (its row, its timer, its events and penalties) is the shell's."""

    def __init__(self, *, config: SlaConfig, contracts: Sequence[SupplierContract],
                 clock: Clock, metrics: SlmMetrics, month_end: MonthEnd | None = None) -> None:
        self.config = config
        self.policies = config.policies
        self.contracts = contracts
        self.clock = clock
        self.metrics = metrics
        self.calendars = {p.schedule.name: p.schedule for p in self.policies}
        for ola in self.policies.olas():
            self.calendars[ola.schedule.name] = ola.schedule
        for contract in contracts:
            for target in contract.targets.values():
                self.calendars[target.schedule.name] = target.schedule
        self.month_end = month_end

    def router(self) -> EventRouter:
        router = EventRouter()
        router.on_many(IncidentOpened)(self.opened)
        router.on_many(IncidentAcknowledged)(self.answered)
        router.on_many(IncidentResolved)(self.answered)
        router.on(IncidentReopened)(self.reopened)
        router.on(IncidentClosed)(self.closed)
        router.on(IncidentHeld)(self.held)
        router.on(IncidentResumed)(self.resumed)
        router.on_many(IncidentAssigned)(self.assigned)
        router.on(IncidentPriorityChanged)(self.priority_changed)
        return router

    async def _clocks(self, tx: Transaction, incident_id: str) -> list[SlaClock]:
        return await store.clocks_for(tx.session, incident_id, self.calendars)

    async def opened(self, tx: Transaction,
                     batch: list[tuple[Envelope, IncidentOpened]]) -> None:
        """Start the SLA (and UC) clocks of every incident in a run of openings, with bulk
        writes: in an alert storm this is the hot path."""
        known = await store.incidents_with_clocks(tx.session, {e.incident_id for _, e in batch})
        fresh: list[tuple[Envelope, SlaClock]] = []
        rows: list[dict[str, object]] = []
        months: dict[str, Envelope | None] = {}  # month -> the first opening in it
        for envelope, event in batch:
            if event.incident_id in known:
                continue  # the same opening again, under another message id
            known.add(event.incident_id)
            first = min(event.first_alert_at or event.opened_at, event.opened_at)
            months.setdefault(month_of(first), envelope)
            rows.append({"incident_id": event.incident_id, "service": event.service,
                         "impact": event.impact, "priority": event.priority,
                         "opened_at": first, "acknowledged_at": None, "resolved_at": None})
            fresh += [(envelope, c) for c in self._initial_clocks(event, first)]
        await facts.add_incidents(tx.session, rows)
        await self._start(tx, fresh)
        if self.month_end is not None and months:
            await self.month_end.ensure(tx, months)

    def _initial_clocks(self, event: IncidentOpened, first: datetime) -> list[SlaClock]:
        policy = self.policies.find(event.service, event.priority)
        begin = first if policy.retroactive else event.opened_at
        clocks = [start_clock(incident_id=event.incident_id, kind=kind, generation=1,
                              policy=policy, service=event.service, started_at=begin)
                  for kind in KINDS]
        contract = contract_for(self.contracts, event.service)
        target = contract.targets.get(event.priority) if contract else None
        if contract is not None and target is not None:
            clocks += [start_clock(incident_id=event.incident_id, kind=kind, generation=1,
                                   policy=target, service=event.service, started_at=begin,
                                   agreement="uc", party=contract.supplier) for kind in KINDS]
        return clocks

    async def answered(self, tx: Transaction,
                       batch: list[tuple[Envelope, IncidentAcknowledged | IncidentResolved]]
                       ) -> None:
        """A run of acknowledgements and resolutions (monitoring resolves incidents in
        storms too): their clocks are read at once, stopped in order in memory, and
        written back with their timers cancelled in a statement each."""
        ids = {event.incident_id for _, event in batch}
        known = await store.clocks_of(tx.session, ids, self.calendars)
        acked, resolved = [], []
        changed: dict[str, SlaClock] = {}
        stopped: list[str] = []
        for envelope, event in batch:
            clocks = known.get(event.incident_id, [])
            if isinstance(event, IncidentAcknowledged):
                acked.append((event.incident_id, event.acknowledged_at))
                kinds, at = _RESPONSE, event.acknowledged_at
            else:  # resolving also answers an incident nobody acknowledged: all stop
                resolved.append((event.incident_id, event.resolved_at))
                kinds, at = KINDS, event.resolved_at
            for clock in await self._stop_clocks(tx, envelope, event.incident_id, clocks,
                                                 kinds, at, save=False):
                changed[clock.clock_id] = clock
                stopped.append(timer_id(clock.clock_id))
        await facts.acknowledged(tx.session, acked)
        await facts.resolved(tx.session, resolved)
        await tx.cancel_many(stopped)
        await store.save_clocks(tx.session, list(changed.values()))

    async def reopened(self, tx: Transaction, envelope: Envelope,
                       event: IncidentReopened) -> None:
        """A new resolution clock from the reopen time, under today's definition."""
        existing = [c for c in await self._clocks(tx, event.incident_id)
                    if c.agreement == "sla"]
        resolution = [c for c in existing if c.kind == "resolution"]
        if not existing or any(c.running or c.started_at == event.reopened_at
                               for c in resolution):
            return  # opened before we were listening, or this reopen was already handled
        await facts.reopened(tx.session, event.incident_id, event.reopened_at)
        last = existing[-1]
        await self._start(tx, [(envelope, start_clock(
            incident_id=event.incident_id, kind="resolution",
            generation=next_generation(existing, "resolution"),
            policy=self.policies.find(last.service, last.priority), service=last.service,
            started_at=event.reopened_at))])

    async def closed(self, tx: Transaction, envelope: Envelope, event: IncidentClosed) -> None:
        """Closing ends whatever still runs (normally nothing: resolve stopped them)."""
        for clock in await self._clocks(tx, event.incident_id):
            if clock.cancel(event.closed_at):
                await tx.cancel(timer_id(clock.clock_id))
                await store.save_clock(tx.session, clock)

    async def held(self, tx: Transaction, envelope: Envelope, event: IncidentHeld) -> None:
        """Pause the clocks whose definition pauses on this hold reason."""
        wrap = caused_by(envelope, event.incident_id)
        for clock in await self._clocks(tx, event.incident_id):
            reasons = set(clock.pause_on.split(","))
            if not clock.running or not ({"*", event.reason} & reasons):
                continue
            if clock.breach(event.held_at):  # overdue before anyone noticed
                await store.save_clock(tx.session, clock)
                await tx.cancel(timer_id(clock.clock_id))
                await self._breached(tx, clock, wrap)
                continue
            if clock.pause(event.held_at):
                await tx.cancel(timer_id(clock.clock_id))
                await store.save_clock(tx.session, clock)
                paused = paused_event(clock, event.reason)
                tx.emit(wrap(paused))

    async def resumed(self, tx: Transaction, envelope: Envelope,
                      event: IncidentResumed) -> None:
        wrap = caused_by(envelope, event.incident_id)
        for clock in await self._clocks(tx, event.incident_id):
            if clock.resume(event.resumed_at):
                await store.save_clock(tx.session, clock)
                await self._arm(tx, clock, envelope)
                resumed = resumed_event(clock, event.resumed_at)
                tx.emit(wrap(resumed))

    async def assigned(self, tx: Transaction,
                       batch: list[tuple[Envelope, IncidentAssigned]]) -> None:
        """A run of assignments (triage assigns every new incident): the clocks of their
        incidents are read at once, and again only for an incident whose clocks changed."""
        known = await store.clocks_of(tx.session, {e.incident_id for _, e in batch},
                                      self.calendars)
        for envelope, event in batch:
            if await self._assigned(tx, envelope, event, known.get(event.incident_id, [])):
                known[event.incident_id] = await self._clocks(tx, event.incident_id)

    async def _assigned(self, tx: Transaction, envelope: Envelope, event: IncidentAssigned,
                        clocks: list[SlaClock]) -> bool:
        """The previous group's OLA clocks stop where they stand; the new group's start.
        True if any clock changed."""
        if not clocks or any(c.agreement == "ola" and c.party == event.assignment_group
                             and c.started_at == event.assigned_at for c in clocks):
            return False  # unknown incident, or this assignment was handled already
        mine = [c for c in clocks if c.agreement == "ola" and c.running]
        await self._stop_clocks(tx, envelope, event.incident_id, mine, KINDS,
                                event.assigned_at)
        first = clocks[0]
        ola = self.policies.ola(event.assignment_group, first.priority)
        if ola is None or any(c.agreement == "sla" and c.kind == "resolution"
                              and not c.running for c in clocks):
            return bool(mine)
        await self._start(tx, [(envelope, start_clock(
            incident_id=event.incident_id, kind=kind,
            generation=next_generation(clocks, kind, "ola", event.assignment_group),
            policy=ola, service=first.service, started_at=event.assigned_at,
            agreement="ola", party=event.assignment_group)) for kind in KINDS])
        return True

    async def priority_changed(self, tx: Transaction, envelope: Envelope,
                               event: IncidentPriorityChanged) -> None:
        """Running clocks are measured against the new priority's definition from their
        original start, as if it had applied from the beginning."""
        for clock in await self._clocks(tx, event.incident_id):
            if not clock.running or clock.priority == event.priority:
                continue
            policy = self._policy_for(clock, event.priority)
            if policy is None:
                clock.cancel(event.changed_at)
                await tx.cancel(timer_id(clock.clock_id))
            elif clock.retarget(policy) and not clock.paused:
                await self._arm(tx, clock, envelope)
            await store.save_clock(tx.session, clock)

    def _policy_for(self, clock: SlaClock, priority: int) -> SlaPolicy | None:
        if clock.agreement == "sla":
            return self.policies.find(clock.service, priority)
        if clock.agreement == "ola":
            return self.policies.ola(clock.party or "", priority)
        contract = contract_for(self.contracts, clock.service)
        return contract.targets.get(priority) if contract else None

    async def on_deadline(self, tx: Transaction, timer: Timer) -> None:
        clock = await store.get_clock(tx.session, str(timer.payload["clock_id"]),
                                      self.calendars)
        if clock is None or not clock.running or clock.paused:
            return  # stopped or paused in the meantime
        now = self.clock.now()
        wrap = from_timer(timer, clock.incident_id)
        with tracing.span("sla.evaluate", attributes={
                "reasonops.sla.clock_id": clock.clock_id}) as span:
            warnings = clock.due_warnings(now)
            breached = clock.breach(now)
            span.set_attributes({"reasonops.sla.breached": breached,
                                 "reasonops.sla.warnings": len(warnings)})
        for percent in warnings:
            warning = at_risk_event(clock, percent)
            tx.emit(wrap(warning))
            tx.after_commit(self.metrics.at_risk.labels(clock.kind, str(percent)).inc)
        if breached:
            await store.save_clock(tx.session, clock)
            await self._breached(tx, clock, wrap)
            return
        await store.save_clock(tx.session, clock)
        due, _ = clock.next_check()
        await tx.schedule(timer_id(clock.clock_id), DEADLINE_TIMER, due,
                          {"clock_id": clock.clock_id}, correlation_id=timer.correlation_id,
                          causation_id=timer.causation_id)
