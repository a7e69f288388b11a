"""The change queries: a change, the list, the calendar (changes, freezes, templates) and
a month's metrics. A reader sees the changes on the services its roles cover."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from reasonops_contracts.catalog import ServiceCatalog
from reasonops_contracts.changes import (
    ChangeCalendar,
    ChangeList,
    ChangeMetrics,
    ChangeView,
    GetChange,
    GetChangeCalendar,
    GetChangeMetrics,
    ListChanges,
)
from reasonops_runtime import Service
from reasonops_runtime.enforcement import Enforcer
from reasonops_runtime.policy import Visibility
from reasonops_runtime.rpc import DomainError, NotFound

from . import store
from .config import ChangeFile
from .domain import Change, overlaps
from .views import change_view, freeze_view, template_view

AHEAD = timedelta(days=14)
MAX_SPAN = timedelta(days=370)


class ChangeQueries:
    def __init__(self, service: Service, changes: ChangeFile, catalog: ServiceCatalog,
                 enforcer: Enforcer) -> None:
        self.service = service
        self.file = changes
        self.catalog = catalog
        self.enforcer = enforcer

    def _visible(self, visible: Visibility, change: Change) -> bool:
        return any(visible.covers(entry.owner if (entry := self.catalog.get(s)) else None, s)
                   for s in change.services)

    async def get(self, query: GetChange) -> ChangeView:
        visible = self.enforcer.visibility(query.actor, at=self.service.clock.now(),
                                           reading="change")
        async with self.service.store.read() as session:
            change = await store.get(session, query.change_id)
            if change is None or not self._visible(visible, change):
                raise NotFound(f"no change {query.change_id}", "change_id")
            incidents = await store.linked(session, [change.change_id])
        return change_view(change, incidents.get(change.change_id, []))

    async def listing(self, query: ListChanges) -> ChangeList:
        visible = self.enforcer.visibility(query.actor, at=self.service.clock.now(),
                                           reading="changes")
        async with self.service.store.read() as session:
            ids = await store.of_incident(session, query.incident_id) \
                if query.incident_id else None
            found = [c for c in await store.listing(session, states=list(query.states or []),
                                                    limit=query.limit, ids=ids)
                     if self._visible(visible, c)
                     and (query.service is None or query.service in c.services)]
            incidents = await store.linked(session, [c.change_id for c in found])
        return ChangeList(items=[change_view(c, incidents.get(c.change_id, []))
                                 for c in found])

    async def calendar(self, query: GetChangeCalendar) -> ChangeCalendar:
        now = self.service.clock.now()
        visible = self.enforcer.visibility(query.actor, at=now, reading="change calendar")
        start = query.start or now
        end = query.end or start + AHEAD
        if end <= start or end - start > MAX_SPAN:
            raise DomainError("end: after start, and at most 370 days on", "end")
        async with self.service.store.read() as session:
            found = [c for c in await store.open_between(session, start, end)
                     if c.state not in ("rejected", "cancelled")
                     and self._visible(visible, c)
                     and (query.service is None or query.service in c.services)]
        freezes = [f for f in self.file.spec.freezes if overlaps(f.start, f.end, start, end)
                   and (query.service is None or f.covers(query.service))]
        return ChangeCalendar(
            start=start, end=end, changes=[change_view(c) for c in found],
            freezes=[freeze_view(f) for f in freezes],
            templates=[template_view(n, t) for n, t in sorted(
                self.file.spec.templates.items())])

    async def metrics(self, query: GetChangeMetrics) -> ChangeMetrics:
        visible = self.enforcer.visibility(query.actor, at=self.service.clock.now(),
                                           reading="change metrics")
        year, month = map(int, query.month.split("-"))
        start = datetime(year, month, 1, tzinfo=UTC)
        end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
        async with self.service.store.read() as session:
            done = [c for c in await store.completed_in(session, start, end)
                    if self._visible(visible, c)]
            incidents = await store.linked(session, [c.change_id for c in done])
        n = len(done)
        successful = sum(1 for c in done if c.outcome == "successful")
        emergency = sum(1 for c in done if c.type == "emergency")
        followed = sum(1 for c in done if incidents.get(c.change_id))
        return ChangeMetrics(
            month=query.month, completed=n, successful=successful,
            success_rate=round(successful / n, 4) if n else None, emergency=emergency,
            emergency_ratio=round(emergency / n, 4) if n else None,
            caused_incidents=sum(len(v) for v in incidents.values()),
            changes_with_incidents=followed,
            change_caused_incident_rate=round(followed / n, 4) if n else None)

    def register(self) -> None:
        self.service.respond(GetChange, self.get)
        self.service.respond(ListChanges, self.listing)
        self.service.respond(GetChangeCalendar, self.calendar)
        self.service.respond(GetChangeMetrics, self.metrics)
