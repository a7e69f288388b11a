"""The finance service's queries and its one command (closing a period)."""

from __future__ import annotations

from reasonops_contracts.catalog import ServiceCatalog
from reasonops_contracts.finance import (
    BudgetList,
    EntryTrace,
    FinanceSummary,
    GetBudgets,
    GetFinanceSummary,
    GetIncidentCost,
    IncidentCostView,
    LedgerEntryList,
    ListLedgerEntries,
    ListPeriods,
    PeriodList,
    PeriodView,
    TraceEntry,
)
from reasonops_runtime import DomainError, NotFound, Service
from reasonops_runtime.enforcement import Enforcer

from . import store
from .config import CostRates
from .costs import incident_cost
from .domain import Entry
from .summary import budget_lines, finance_summary
from .views import entry_list, entry_trace


class FinanceQueries:
    """Entries, the summary and budgets are read by whoever's roles cover their service
    (its team: the catalog's owner), each narrowed to those services; the periods by
    whoever holds a role."""

    def __init__(self, service: Service, rates: CostRates, enforcer: Enforcer,
                 catalog: ServiceCatalog) -> None:
        self.service = service
        self.rates = rates
        self.enforcer = enforcer
        self.catalog = catalog

    def owner(self, name: str) -> str | None:
        entry = self.catalog.get(name)
        return entry.owner if entry else None

    def readable(self, actor: str, reading: str) -> frozenset[str] | None:
        visible = self.enforcer.visibility(actor, at=self.service.clock.now(), reading=reading)
        return visible.services(self.owner, (s.name for s in self.catalog.services))

    async def summary(self, query: GetFinanceSummary) -> FinanceSummary:
        services = self.readable(query.actor, "finance summary")
        async with self.service.store.read() as session:
            found = await store.entries_in(session, query.month)
        return finance_summary(query.month, _within(found, services), self.rates)

    async def entries(self, query: ListLedgerEntries) -> LedgerEntryList:
        services = self.readable(query.actor, "ledger entries")
        async with self.service.store.read() as session:
            found = await store.find_entries(session, month=query.month,
                                             incident_id=query.incident_id, limit=query.limit,
                                             offset=query.offset, services=services)
            total = await store.count_entries(session, month=query.month,
                                              incident_id=query.incident_id, services=services)
        return entry_list(found, total=total, offset=query.offset)

    async def trace(self, query: TraceEntry) -> EntryTrace:
        async with self.service.store.read() as session:
            entry = await store.get_entry(session, query.entry_id)
            if entry is None:
                raise NotFound(f"no ledger entry {query.entry_id}")
            self.enforcer.readable(query.actor, at=self.service.clock.now(), reading=query.entry_id,
                                   team=self.owner(entry.service), service=entry.service,
                                   incident_id=entry.incident_id)
            related = (await store.find_entries(session, incident_id=entry.incident_id,
                                                services=self.readable(query.actor, "ledger"))
                       if entry.incident_id else [])
        return entry_trace(entry, related)

    async def cost(self, query: GetIncidentCost) -> IncidentCostView:
        """Reckoned as its cost is booked when it closes (``IncidentCosting.closed``),
        read by whoever may read its service (one who may read nothing is refused before
        anything is said of the incident)."""
        self.enforcer.visibility(query.actor, at=self.service.clock.now(),
                                 reading=f"the cost of {query.incident_id}")
        async with self.service.store.read() as session:
            row = await store.get_incident(session, query.incident_id)
            booked = await store.entry_of_source(session, f"COST-{query.incident_id}")
        if row is None:
            raise NotFound(f"finance has not seen {query.incident_id} opened", "incident_id")
        self.enforcer.readable(query.actor, at=self.service.clock.now(),
                               reading=f"the cost of {query.incident_id}",
                               team=self.owner(row.service) if row.service else None,
                               service=row.service, incident_id=query.incident_id)
        if row.service is None:
            raise DomainError(f"{query.incident_id} names no service: it has no cost",
                              "incident_id")
        found = self.catalog.get(row.service)
        until = row.resolved_at or self.service.clock.now()
        cost = incident_cost(rates=self.rates, tier=found.tier if found else 3,
                             priority=row.priority, opened_at=row.opened_at,
                             acknowledged_at=row.acknowledged_at, resolved_at=until,
                             reported_at=row.reported_at)
        return IncidentCostView(
            incident_id=query.incident_id, service=row.service, currency=self.rates.currency,
            downtime=cost.downtime, effort=cost.effort, total=cost.total, memo=cost.memo,
            until=until, resolved=row.resolved_at is not None, booked_entry_id=booked)

    async def budgets(self, query: GetBudgets) -> BudgetList:
        services = self.readable(query.actor, "budgets")
        async with self.service.store.read() as session:
            found = await store.entries_in(session, query.month)
        costs = [e for e in _within(found, services) if e.kind == "incident_cost"]
        return BudgetList(month=query.month, items=budget_lines(query.month, costs, self.rates))

    async def periods(self, query: ListPeriods) -> PeriodList:
        self.enforcer.visibility(query.actor, at=self.service.clock.now(), reading="periods")
        async with self.service.store.read() as session:
            closed = await store.closed_periods(session)
            counts = await store.entry_counts(session)
        months = sorted(set(closed) | set(counts))
        return PeriodList(items=[PeriodView(
            month=m, state="closed" if m in closed else "open",
            closed_at=closed[m].closed_at if m in closed else None,
            closed_by=closed[m].closed_by if m in closed else None,
            entries=counts.get(m, 0)) for m in months])

    def register(self) -> None:
        self.service.respond(GetFinanceSummary, self.summary)
        self.service.respond(ListLedgerEntries, self.entries)
        self.service.respond(TraceEntry, self.trace)
        self.service.respond(GetBudgets, self.budgets)
        self.service.respond(ListPeriods, self.periods)
        self.service.respond(GetIncidentCost, self.cost)


def register_queries(service: Service, rates: CostRates, enforcer: Enforcer,
                     catalog: ServiceCatalog) -> None:
    FinanceQueries(service, rates, enforcer, catalog).register()


def _within(entries: list[Entry], services: frozenset[str] | None) -> list[Entry]:
    """The entries of ``services`` (None: every entry)."""
    return entries if services is None else [e for e in entries if e.service in services]
