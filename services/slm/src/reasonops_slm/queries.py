"""The SLM service's queries: an incident's clocks, a month's report."""

from __future__ import annotations

from reasonops_contracts.slm import GetSlaReport, GetSlaStatus, SlaReport, SlaStatus
from reasonops_runtime import Service

from . import store
from .handlers import SlaClocks
from .monthly import MonthEnd
from .views import sla_status


def register_queries(service: Service, clocks: SlaClocks, month_end: MonthEnd) -> None:
    async def status(query: GetSlaStatus) -> SlaStatus:
        async with service.store.read() as session:
            found = await store.clocks_for(session, query.incident_id, clocks.calendars)
            penalties = await store.penalties_for(session, query.incident_id)
        return sla_status(query.incident_id, found, penalties, service.clock.now())

    async def report(query: GetSlaReport) -> SlaReport:
        async with service.store.read() as session:
            return await month_end.report(session, query)

    service.respond(GetSlaStatus, status)
    service.respond(GetSlaReport, report)
