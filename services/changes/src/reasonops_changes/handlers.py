"""Incidents opened on a service during a change, or within the change file's
``link_window`` after it completed, are linked to it as possibly change-caused (one
statement to find the changes a batch may touch)."""

from __future__ import annotations

from reasonops_contracts import Envelope
from reasonops_contracts.incidents import IncidentOpened
from reasonops_runtime import Clock, EventRouter, Transaction

from . import events, store
from .config import ChangeFile
from .metrics import ChangeCounters


class IncidentLinks:
    def __init__(self, changes: ChangeFile, clock: Clock, counters: ChangeCounters) -> None:
        self.file = changes
        self.clock = clock
        self.counters = counters

    def router(self) -> EventRouter:
        router = EventRouter()
        router.on_many(IncidentOpened)(self.opened)
        return router

    async def opened(self, tx: Transaction, batch: list[tuple[Envelope, IncidentOpened]]
                     ) -> None:
        serviced = [e for _, e in batch if e.service]
        if not serviced:
            return
        window = self.file.spec.link_window
        latest = max(e.opened_at for e in serviced)
        earliest = min(e.opened_at for e in serviced)
        candidates = await store.touching(tx.session, latest, earliest - window)
        now = self.clock.now()
        for event in serviced:
            for change in candidates:
                if event.service not in change.services:
                    continue
                started = change.started_at or change.planned_start
                if event.opened_at < started:
                    continue
                if change.state == "implementing":
                    reason = f"opened on {event.service} while {change.change_id} was " \
                             "being implemented"
                elif change.completed_at is not None and \
                        change.completed_at <= event.opened_at <= change.completed_at + window:
                    minutes = int((event.opened_at - change.completed_at).total_seconds() // 60)
                    reason = f"opened on {event.service} {minutes} min after " \
                             f"{change.change_id} completed ({change.outcome})"
                else:
                    continue
                if await store.link(tx.session, change.change_id, event.incident_id,
                                    str(event.service), now, reason):
                    self.counters.linked.inc()
                    tx.emit(events.linked(change.change_id, event.incident_id,
                                          str(event.service), reason, now))
