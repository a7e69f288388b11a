"""What the sync does on events and timers: an incident event asks for its record to be
brought up to date (``outbound``); the poll timer reads back what changed in ServiceNow,
and a pull timer the one record ServiceNow named (``inbound``)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from reasonops_contracts import Envelope
from reasonops_contracts.incidents import (
    IncidentAcknowledged,
    IncidentAssigned,
    IncidentClosed,
    IncidentCommented,
    IncidentHeld,
    IncidentMajorDeclared,
    IncidentOpened,
    IncidentPriorityChanged,
    IncidentReopened,
    IncidentResolved,
    IncidentResumed,
)
from reasonops_runtime import Clock, EventRouter, Timer, Transaction
from reasonops_runtime.routing import ManyHandler
from reasonops_runtime.tables import timers_table

from . import store
from .failures import Failures
from .inbound import Inbound
from .outbound import Outbound
from .table import TableError, Unavailable

log = logging.getLogger(__name__)

PULL_TIMER = "servicenow.pull"
POLL_TIMER = "servicenow.poll"
POLL_ID = "servicenow:poll"
BUSY_AGAIN = timedelta(seconds=1)
INCIDENT_EVENTS = (IncidentOpened, IncidentAcknowledged, IncidentResolved, IncidentClosed,
                   IncidentReopened, IncidentHeld, IncidentResumed, IncidentAssigned,
                   IncidentPriorityChanged, IncidentMajorDeclared, IncidentCommented)


def pull_id(sys_id: str) -> str:
    return f"servicenow:pull:{sys_id}"


class Sync:
    def __init__(self, *, outbound: Outbound, inbound: Inbound, failures: Failures,
                 clock: Clock, poll_every: timedelta) -> None:
        self.outbound = outbound
        self.inbound = inbound
        self.failures = failures
        self.clock = clock
        self.poll_every = poll_every

    def router(self) -> EventRouter:
        return _router(self.changed)

    async def changed(self, tx: Transaction, items: list[tuple[Envelope, Any]]) -> None:
        """Every incident a run of events names is to be pushed (in two statements)."""
        await self.outbound.want(tx, [event.incident_id for _, event in items])

    async def poll_due(self, tx: Transaction, timer: Timer) -> None:
        now = self.clock.now()
        try:
            await self.inbound.poll(tx)
        except Unavailable as exc:
            await store.set_mark(tx.session, store.LAST_POLL, exc.reason[:256], now)
            await tx.schedule(POLL_ID, POLL_TIMER, now + max(
                self.poll_every, timedelta(seconds=exc.retry_after)), {})
            return
        except TableError as exc:
            await store.set_mark(tx.session, store.LAST_POLL, str(exc)[:256], now)
            self.failures.record(tx, None, "inbound", exc.field, str(exc), now)
        else:
            await store.set_mark(tx.session, store.LAST_POLL, None, now)
        await tx.schedule(POLL_ID, POLL_TIMER, now + self.poll_every, {})

    async def pull_due(self, tx: Transaction, timer: Timer) -> None:
        sys_id, now = str(timer.payload["sys_id"]), self.clock.now()
        link = (await store.by_sys_ids(tx.session, [sys_id])).get(sys_id)
        if link is not None and await store.in_flight(tx.session, [link.incident_id], now):
            await tx.schedule(timer.timer_id, timer.kind, now + BUSY_AGAIN, timer.payload)
            return  # its push's answer may tell first; read it once that is recorded
        try:
            await self.inbound.pull(tx, sys_id, "inbound")
        except Unavailable as exc:
            await tx.schedule(timer.timer_id, timer.kind, now + timedelta(
                seconds=max(1.0, exc.retry_after)), timer.payload)
        except TableError as exc:
            self.failures.record(tx, None, "inbound", exc.field, str(exc), now)

    async def ensure_polling(self, tx: Transaction) -> None:
        armed = (await tx.session.execute(select(timers_table.c.timer_id).where(
            timers_table.c.timer_id == POLL_ID))).first()
        if armed is None:
            await tx.schedule(POLL_ID, POLL_TIMER, self.clock.now(), {})


def _router(handler: ManyHandler, wanted: Callable[[Any], bool] | None = None) -> EventRouter:
    router = EventRouter()
    for model in INCIDENT_EVENTS:
        router.on_many(model, wanted=wanted)(handler)
    return router


async def not_configured(tx: Transaction, items: list[tuple[Envelope, Any]]) -> None:
    """Without an instance the events are read and let go: configured later, the sync
    starts from then, rather than making records for every incident of the past."""


def idle_router() -> EventRouter:
    """Every event acked unread by the store (no transaction, no inbox row)."""
    return _router(not_configured, wanted=lambda _event: False)
