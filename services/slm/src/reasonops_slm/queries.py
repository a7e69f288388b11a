"""The SLM service's queries: an incident's clocks, the clocks that need someone now, a
month's report, the definitions and contracts in force; each answered with
what the asker's roles cover (a service's team is its owner in the catalog; an OLA
clock's team is its group)."""

from __future__ import annotations

from reasonops_contracts.catalog import ServiceCatalog
from reasonops_contracts.slm import (
    GetSlaReport,
    GetSlaStatus,
    ListSlaClocks,
    ListSlaPolicies,
    ListSupplierContracts,
    SlaClockList,
    SlaPolicyList,
    SlaReport,
    SlaStatus,
    SupplierContractList,
)
from reasonops_runtime import Service
from reasonops_runtime.enforcement import Enforcer

from . import store
from .handlers import SlaClocks
from .monthly import MonthEnd
from .views import contract_view, open_clock_view, policy_view, sla_status


class SlaQueries:
    """SLA status per incident and the report per service and period, each narrowed to what
    the principal's roles cover (a service's team is its catalog owner)."""

    def __init__(self, service: Service, clocks: SlaClocks, month_end: MonthEnd,
                 enforcer: Enforcer, catalog: ServiceCatalog) -> None:
        self.service = service
        self.clocks = clocks
        self.month_end = month_end
        self.enforcer = enforcer
        self.catalog = catalog

    def owner(self, name: str | None) -> str | None:
        entry = self.catalog.get(name)
        return entry.owner if entry else None

    async def status(self, query: GetSlaStatus) -> SlaStatus:
        now = self.service.clock.now()
        visible = self.enforcer.visibility(query.actor, at=now, reading="SLA status")
        async with self.service.store.read() as session:
            found = await store.clocks_for(session, query.incident_id, self.clocks.calendars)
            penalties = await store.penalties_for(session, query.incident_id)
        services = {c.service for c in found} | {p.service for p in penalties}
        groups = {c.party for c in found if c.agreement == "ola" and c.party}
        if found and not any(visible.covers(self.owner(s), s) for s in services) \
                and not any(visible.covers(g, None) for g in groups):
            service_name = next(iter(sorted(s for s in services if s)), None)
            self.enforcer.readable(query.actor, at=now, reading="SLA status",
                                   team=self.owner(service_name), service=service_name,
                                   incident_id=query.incident_id)
        return sla_status(query.incident_id, found, penalties, self.service.clock.now())

    async def report(self, query: GetSlaReport) -> SlaReport:
        visible = self.enforcer.visibility(query.actor, at=self.service.clock.now(),
                                           reading="SLA report")
        async with self.service.store.read() as session:
            full = await self.month_end.report(session, query)
        if visible.everything:
            return full
        return full.model_copy(update={
            "services": [s for s in full.services
                         if visible.covers(self.owner(s.service), s.service)],
            "penalties": [p for p in full.penalties
                          if visible.covers(self.owner(p.service), p.service)]})

    async def contracts(self, query: ListSupplierContracts) -> SupplierContractList:
        visible = self.enforcer.visibility(query.actor, at=self.service.clock.now(),
                                           reading="supplier contracts")
        return SupplierContractList(items=[
            contract_view(c) for c in self.month_end.contracts
            if visible.everything or any(visible.covers(self.owner(s), s)
                                         for s in c.services)])

    async def open_clocks(self, query: ListSlaClocks) -> SlaClockList:
        now = self.service.clock.now()
        visible = self.enforcer.visibility(query.actor, at=now, reading="SLA clocks")
        services = visible.services(self.owner, (s.name for s in self.catalog.services))
        if query.service is not None:
            services = frozenset({query.service} & (services if services is not None
                                                    else {query.service}))
        named = {team for held in visible.scopes for s in held for team in s.teams}
        groups = frozenset(t for t in named if visible.covers(t, None))
        async with self.service.store.read() as session:
            found, total = await store.open_clocks(
                session, attention=query.attention, at_risk_percent=query.at_risk_percent,
                services=services, groups=groups, limit=query.limit,
                calendars=self.clocks.calendars)
        return SlaClockList(items=[open_clock_view(c, s, now) for c, s in found],
                            total=total)

    async def policies(self, query: ListSlaPolicies) -> SlaPolicyList:
        self.enforcer.visibility(query.actor, at=self.service.clock.now(),
                                 reading="SLA definitions")
        book = self.clocks.policies
        slas = list(book)
        if query.service is not None:
            own = {p.priority for p in slas if p.service == query.service}
            slas = [p for p in slas if p.service == query.service or
                    (p.service is None and p.priority not in own)]
        return SlaPolicyList(items=[policy_view(p, "sla") for p in slas] +
                             [policy_view(p, "ola") for p in sorted(
                                 book.olas(), key=lambda p: (p.service or "", p.priority))])

    def register(self) -> None:
        self.service.respond(ListSlaClocks, self.open_clocks)
        self.service.respond(ListSlaPolicies, self.policies)
        self.service.respond(GetSlaStatus, self.status)
        self.service.respond(GetSlaReport, self.report)
        self.service.respond(ListSupplierContracts, self.contracts)


def register_queries(service: Service, clocks: SlaClocks, month_end: MonthEnd,
                     enforcer: Enforcer, catalog: ServiceCatalog) -> None:
    SlaQueries(service, clocks, month_end, enforcer, catalog).register()
