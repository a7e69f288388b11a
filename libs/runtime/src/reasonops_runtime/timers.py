"""Durable timers: rows in the service's store, fired once by whichever replica claims them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, select, tuple_, update

from . import tracing
from .clock import Clock
from .faults import operational
from .metrics import KitMetrics
from .outbox import OutboxRelay
from .store import OutboxMessage, Store, Transaction, timers_table

log = logging.getLogger(__name__)

# Built once (see ``transaction``): every service's wheel runs them at every look.
_EARLIEST = select(func.min(timers_table.c.due_at))
_DUE = (select(timers_table).where(timers_table.c.due_at <= bindparam("b_now"))
        # One order for every replica (ties by id): two firing the same group lock its
        # rows in the same order, the second then finds them gone.
        .order_by(timers_table.c.due_at, timers_table.c.timer_id)
        .limit(bindparam("b_limit")))
_CLAIM = delete(timers_table).where(timers_table.c.timer_id == bindparam("b_timer_id"),
                                    timers_table.c.due_at == bindparam("b_due_at"))

RELAY_EVERY = 100
"""Fired timers' events are relayed once this many are owed, and at the end of a look."""

TOGETHER = 50
"""Due timers of kinds that may fire together commit this many to a transaction."""


@dataclass(frozen=True)
class Timer:
    timer_id: str
    kind: str
    due_at: datetime
    payload: dict[str, Any]
    correlation_id: str | None
    causation_id: str | None
    trace_context: str | None = None
    """``traceparent`` of the work that armed the timer: firing continues that trace."""


TimerHandler = Callable[[Transaction, Timer], Awaitable[None]]
TimersHandler = Callable[[Transaction, list[Timer]], Awaitable[None]]
"""Handles the due timers of one kind together (a single one when fired alone)."""


class TimerWheel:
    """Fires due timers. Deleting the row is the claim, so exactly one replica fires it.

    The wheel knows when its next timer is due: it asks the database only when that
    time has come, when this process armed one earlier (the store tells it after each
    commit) and, for timers armed by another replica or left by one that stopped, every
    ``recheck_seconds``. Between, each ``poll_seconds`` tick only reads the clock, so an
    idle service asks nothing, and a clock moved by hand (a test's, a simulation's) is
    still seen within a tick.
    """

    def __init__(self, store: Store, relay: OutboxRelay | None, clock: Clock,
                 handlers: dict[str, TimerHandler], metrics: KitMetrics,
                 *, poll_seconds: float = 0.25, recheck_seconds: float = 5.0,
                 retry_after: timedelta = timedelta(seconds=30),
                 together: Collection[str] = frozenset(),
                 batched: dict[str, TimersHandler] | None = None) -> None:
        self.store = store
        self.relay = relay
        self.clock = clock
        self.handlers = handlers
        self.together = frozenset(together)
        """Kinds whose handlers only write to the store (no call out, which a rolled-back
        transaction could not take back): due ones fire up to ``TOGETHER`` in one
        transaction, and alone, each in its own, if any of them fails."""
        self.batched = batched or {}
        """Kinds whose due timers reach their handler as one list (up to ``TOGETHER``,
        claimed in one statement, in one transaction): a handler that calls out makes its
        calls at once, not one after another. If that transaction fails, each is handed
        alone, in its own, as a list of one."""
        self.metrics = metrics
        self.poll_seconds = poll_seconds
        self.recheck_seconds = recheck_seconds
        self.retry_after = retry_after
        self._next_due: datetime | None = None
        self._known = False
        """Whether ``_next_due`` is what the database said (None: no timer armed)."""
        self._looked_at = 0.0
        self._arms = 0
        store.timer_listeners.append(self._armed)

    def _armed(self, due_at: datetime) -> None:
        """A transaction of this process armed a timer due at ``due_at`` and committed."""
        self._arms += 1
        if self._next_due is None or due_at < self._next_due:
            self._next_due = due_at  # looked at by the next tick (not sooner: a simulation
            # whose ticks are a day apart fires its timers itself, between its steps)

    def due(self) -> bool:
        """Whether a timer may be due by the clock's time, as far as this process knows
        (it armed every timer there is, in a simulation, so ``look`` can wait till then)."""
        return not self._known or (self._next_due is not None
                                   and self._next_due <= self.clock.now())

    def _time_to_look(self) -> bool:
        return self.due() or time.monotonic() - self._looked_at >= self.recheck_seconds

    async def look(self, limit: int = 200) -> int:
        """Fire what is due, then learn when the next timer is; return how many fired."""
        arms = self._arms
        fired = await self.fire_due(limit)
        if fired >= limit:  # more may be due: the next tick looks again
            self._known = False
            return fired
        async with self.store.read() as session:
            earliest = (await session.execute(_EARLIEST)).scalar_one_or_none()
        if self._arms == arms:
            self._next_due, self._known = earliest, True
        else:  # a timer armed meanwhile may have committed after that read: ask again
            self._known = False
        self._looked_at = time.monotonic()
        return fired

    async def fire_due(self, limit: int = 200) -> int:
        """Fire every timer due now; return how many fired."""
        now = self.clock.now()
        async with self.store.read() as session:
            rows = (await session.execute(_DUE, {"b_now": now, "b_limit": limit})).all()
        timers = [Timer(row.timer_id, row.kind, row.due_at, row.payload, row.correlation_id,
                        row.causation_id, row.trace_context) for row in rows]
        fired = 0
        # A timer commits on its own, or with others of kinds that may fire together (one
        # that fails does not hold back the others); what they emitted is relayed
        # together, one round trip to the broker and one delete of the relayed rows for
        # many timers rather than one each.
        owed: list[OutboxMessage] = []
        for group in self._groups(timers):
            outcome = await self._fire_together(group) if len(group) > 1 else None
            if outcome is None:
                outcome = (0, [])
                for timer in group:
                    emitted = await self._fire(timer)
                    if emitted is not None:
                        outcome = (outcome[0] + 1, outcome[1] + emitted)
            fired += outcome[0]
            owed.extend(outcome[1])
            if len(owed) >= RELAY_EVERY:
                await self._relay(owed)
                owed = []
        await self._relay(owed)
        return fired

    def _groups(self, timers: list[Timer]) -> list[list[Timer]]:
        """``timers`` in their order, in runs of kinds that may fire together (at most
        ``TOGETHER`` a run), of one batched kind, and alone."""
        groups: list[list[Timer]] = []
        for timer in timers:
            last = groups[-1] if groups else None
            if last is not None and len(last) < TOGETHER and (
                    (timer.kind in self.together and last[-1].kind in self.together)
                    or (timer.kind in self.batched and last[-1].kind == timer.kind)):
                last.append(timer)
            else:
                groups.append([timer])
        return groups

    async def _fire_together(self, timers: list[Timer]) -> tuple[int, list[OutboxMessage]] | None:
        """Fire ``timers`` in one transaction: how many fired and what they emitted, or
        None (nothing committed) if any failed."""
        kinds: list[str] = []
        try:
            async with self.store.transaction() as tx:
                if timers[0].kind in self.batched:
                    kinds = [timer.kind for timer in await self._claimed_batch(tx, timers)]
                else:
                    for timer in timers:
                        if await self._claimed(tx, timer):
                            kinds.append(timer.kind)
        except Exception as exc:
            log.warning("timers fired together failed; firing each alone",
                        extra={"timers": len(timers), "error": repr(exc)})
            return None
        for kind in kinds:
            self.metrics.timers_fired.labels(self.metrics.service, kind).inc()
        return len(kinds), tx.emitted

    async def _claimed_batch(self, tx: Transaction, timers: list[Timer]) -> list[Timer]:
        """Claim ``timers`` (of one batched kind) in ``tx`` in one statement and hand those
        still there (not fired by another replica, nor re-armed) to their handler."""
        kind = timers[0].kind
        attributes = {tracing.SERVICE_ATTRIBUTE: self.metrics.service,
                      "reasonops.timer.kind": kind, "reasonops.timers": len(timers)}
        with tracing.span(f"timers {kind}", parent=timers[0].trace_context,
                          attributes=attributes):
            claimed = await tx.session.execute(delete(timers_table).where(
                tuple_(timers_table.c.timer_id, timers_table.c.due_at).in_(
                    [(timer.timer_id, timer.due_at) for timer in timers]))
                .returning(timers_table.c.timer_id))
            ids = set(claimed.scalars())
            mine = [timer for timer in timers if timer.timer_id in ids]
            for timer in mine:
                if timer.causation_id and timer.trace_context:
                    tx.trace_parents[timer.causation_id] = timer.trace_context
            if mine:
                await self.batched[kind](tx, mine)
        return mine

    async def _claimed(self, tx: Transaction, timer: Timer) -> bool:
        """Claim ``timer`` in ``tx`` and run its handler; False if it was not there (fired
        by another replica, or re-armed)."""
        if timer.kind in self.batched:
            return bool(await self._claimed_batch(tx, [timer]))
        handler = self.handlers[timer.kind]
        attributes = {tracing.SERVICE_ATTRIBUTE: self.metrics.service,
                      "reasonops.timer.kind": timer.kind, "reasonops.timer.id": timer.timer_id,
                      "reasonops.correlation_id": timer.correlation_id or ""}
        with tracing.span(f"timer {timer.kind}", parent=timer.trace_context,
                          attributes=attributes):
            if timer.causation_id and timer.trace_context:  # tracing off: forward
                tx.trace_parents[timer.causation_id] = timer.trace_context
            claimed = await tx.session.execute(
                _CLAIM, {"b_timer_id": timer.timer_id, "b_due_at": timer.due_at})
            if getattr(claimed, "rowcount", 0) != 1:
                return False  # another replica fired it, or it was re-armed
            await handler(tx, timer)
        return True

    async def _relay(self, messages: list[OutboxMessage]) -> None:
        if self.relay is not None and messages:
            await self.relay.publish(messages)

    async def _fire(self, timer: Timer) -> list[OutboxMessage] | None:
        """Fire ``timer`` in a transaction of its own; what it emitted, or None if it
        did not fire (another replica's, re-armed, or its handler failed)."""
        if timer.kind not in self.handlers and timer.kind not in self.batched:
            log.error("no handler for timer kind", extra={"kind": timer.kind})
            return None
        try:
            async with self.store.transaction() as tx:
                if not await self._claimed(tx, timer):
                    return None
        except Exception:
            log.exception("timer handler failed; retrying later", extra={"timer": timer.timer_id})
            async with self.store.transaction() as tx:
                await tx.session.execute(
                    update(timers_table).where(timers_table.c.timer_id == timer.timer_id)
                    .values(due_at=self.clock.now() + self.retry_after))
            return None
        self.metrics.timers_fired.labels(self.metrics.service, timer.kind).inc()
        return tx.emitted

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            if self._time_to_look():
                try:
                    await self.look()
                except Exception as exc:
                    self._known = False
                    if not operational(exc):
                        log.exception("timer poll failed")
                    else:  # the database or broker is away: once a poll, without a traceback
                        log.warning("timer poll failed", extra={"error": repr(exc)})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), self.poll_seconds)
