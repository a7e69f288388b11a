"""Views built from several queries: the integrated dashboard, the headline service-level
figures, agent health by provider, and the monthly summary. Pure: each takes the
answers already fetched, so every face (CLI, REST, MCP, console) shows the same numbers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Protocol, TypeVar

from pydantic import BaseModel

from reasonops_contracts import Command, Query
from reasonops_contracts.agents import AgentStatus
from reasonops_contracts.api import (
    Dashboard,
    Money,
    MonthlySummary,
    ProviderHealth,
    ServiceLevel,
    SlmMetrics,
)
from reasonops_contracts.finance import BudgetList, FinanceSummary, GetBudgets, GetFinanceSummary
from reasonops_contracts.incidents import CountIncidents, IncidentCounts
from reasonops_contracts.slm import GetSlaReport, SlaReport

V = TypeVar("V", bound=BaseModel)


def slm_metrics(report: SlaReport) -> SlmMetrics:
    rows = report.services

    def weighted(values: Iterable[tuple[int | None, int]], unit: float) -> float | None:
        known = [(v, n) for v, n in values if v is not None and n > 0]
        weight = sum(n for _, n in known)
        return round(sum(v * n for v, n in known) / weight / unit, 2) if weight else None

    availability = (sum((s.availability for s in rows), Decimal(0)) / len(rows)
                    if rows else Decimal(100)).quantize(Decimal("0.0001"))
    return SlmMetrics(
        period=report.month, services=len(rows), availability_pct=availability,
        mttr_minutes=weighted(((s.mttr_seconds, s.incidents) for s in rows), 60),
        mtbf_hours=weighted(((s.mtbf_seconds, s.incidents) for s in rows), 3600),
        mtta_minutes=weighted(((s.mtta_seconds, s.incidents) for s in rows), 60),
        incidents=sum(s.incidents for s in rows), breaches=sum(s.breaches for s in rows))


def provider_health(statuses: Sequence[AgentStatus]) -> dict[str, ProviderHealth]:
    """Provider name -> its health, worst of every replica's answer."""
    rank = {"unhealthy": 3, "circuit_open": 2, "unknown": 1, "healthy": 0}
    found: dict[str, ProviderHealth] = {}
    for status in statuses:
        for p in status.providers:
            state = ("circuit_open" if p.circuit == "open" else
                     "unknown" if p.healthy is None else
                     "healthy" if p.healthy else "unhealthy")
            seen = found.get(p.provider)
            who = f"{status.agent}/{status.instance}"
            if seen is None:
                found[p.provider] = ProviderHealth(status=state, agents=[who], model=p.model,
                                                   external=p.external, circuit=p.circuit,
                                                   detail=p.detail)
                continue
            worse = rank[state] > rank[seen.status]
            found[p.provider] = seen.model_copy(update={
                "agents": [*seen.agents, who],
                **({"status": state, "circuit": p.circuit, "detail": p.detail} if worse else {})})
    return found


class Asker(Protocol):
    """Sends a command or query as the reader and answers its typed result (the CLI over
    NATS, the gateway for its caller)."""

    async def __call__(self, message: Command | Query, result: type[V]) -> V: ...


async def fetch_dashboard(ask: Asker,
                          statuses: Callable[[], Awaitable[Sequence[AgentStatus]]], *,
                          now: datetime, known_services: Iterable[str] = ()) -> Dashboard:
    """Ask what the dashboard shows (this month's), all at once, and build it."""
    month = now.strftime("%Y-%m")
    counts, report, finance, budgets, found = await asyncio.gather(
        ask(CountIncidents(), IncidentCounts), ask(GetSlaReport(month=month), SlaReport),
        ask(GetFinanceSummary(month=month), FinanceSummary),
        ask(GetBudgets(month=month), BudgetList), statuses())
    return dashboard(now=now, known_services=known_services, counts=counts, report=report,
                     finance=finance, budgets=budgets, statuses=found)


async def fetch_monthly_summary(ask: Asker, month: str, *, now: datetime) -> MonthlySummary:
    """Ask what a month's summary holds, all at once, and build it."""
    report, finance, budgets = await asyncio.gather(
        ask(GetSlaReport(month=month), SlaReport),
        ask(GetFinanceSummary(month=month), FinanceSummary),
        ask(GetBudgets(month=month), BudgetList))
    return monthly_summary(now=now, report=report, finance=finance, budgets=budgets)


def dashboard(*, now: datetime, known_services: Iterable[str], counts: IncidentCounts,
              report: SlaReport, finance: FinanceSummary, budgets: BudgetList,
              statuses: Sequence[AgentStatus]) -> Dashboard:
    levels = [ServiceLevel(service=s.service, availability=s.availability, slo=s.slo,
                           error_budget_remaining_percent=s.error_budget_remaining_percent,
                           incidents=s.incidents, breaches=s.breaches)
              for s in report.services]
    money: dict[str, Money] = {}
    for line in budgets.items:
        seen = money.get(line.currency)
        money[line.currency] = Money(
            currency=line.currency, budget=line.budget + (seen.budget if seen else 0),
            actual=line.actual + (seen.actual if seen else 0),
            variance=line.variance + (seen.variance if seen else 0))
    services = {*known_services, *(s.service for s in report.services)}
    return Dashboard(
        month=report.month, generated_at=now, services=len(services),
        offerings=len(report.services), service_levels=levels,
        open_incidents=sum(counts.open_by_priority.values()),
        open_by_priority=counts.open_by_priority, incidents_by_state=counts.by_state,
        breaches=sum(s.breaches for s in report.services), penalties=dict(finance.totals),
        budget=sorted(money.values(), key=lambda m: m.currency),
        agents=provider_health(statuses))


def monthly_summary(*, now: datetime, report: SlaReport, finance: FinanceSummary,
                    budgets: BudgetList) -> MonthlySummary:
    view = dashboard(now=now, known_services=(), counts=IncidentCounts(
        total=0, by_state={}, by_priority={}, open_by_priority={}), report=report,
        finance=finance, budgets=budgets, statuses=())
    penalties: dict[str, dict[str, Decimal]] = {}
    for p in report.penalties:
        by_currency = penalties.setdefault(p.supplier, {})
        by_currency[p.currency] = by_currency.get(p.currency, Decimal(0)) + p.amount
    return MonthlySummary(
        month=report.month, generated_at=now, metrics=slm_metrics(report),
        service_levels=view.service_levels, penalties=penalties,
        penalty_totals=dict(finance.totals),
        incident_costs=_costs(finance),
        budget=view.budget)


def _costs(finance: FinanceSummary) -> dict[str, dict[str, Decimal]]:
    found: dict[str, dict[str, Decimal]] = {}
    for line in finance.incident_cost_by_service:
        by_currency = found.setdefault(line.service, {})
        by_currency[line.currency] = by_currency.get(line.currency, Decimal(0)) + line.total
    return found
