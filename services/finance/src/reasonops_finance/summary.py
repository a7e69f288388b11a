"""A month of the ledger summed up: budgets against actual cost, penalties, costly incidents.

Pure. "Actual" is the incident cost booked to a service (or the services of a cost
centre) in the month; variance is budget minus actual, negative when over budget.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from reasonops_contracts.finance import (
    BudgetLine,
    CostlyIncident,
    FinanceSummary,
    IncidentCostLine,
    PenaltyTotal,
    SummaryLine,
)

from .config import CostRates
from .domain import DOWNTIME_EXPENSE, EFFORT_EXPENSE, Entry, summarise

TOP = 5


def _totals(pairs: Iterable[tuple[str, str, Decimal]]) -> list[PenaltyTotal]:
    sums: dict[tuple[str, str], tuple[Decimal, int]] = {}
    for name, currency, amount in pairs:
        total, count = sums.get((name, currency), (Decimal(0), 0))
        sums[(name, currency)] = (total + amount, count + 1)
    return [PenaltyTotal(name=n, currency=c, amount=a, entries=k)
            for (n, c), (a, k) in sorted(sums.items())]


def _cost_lines(costs: list[Entry]) -> list[IncidentCostLine]:
    found: dict[tuple[str, str], list[Decimal]] = defaultdict(
        lambda: [Decimal(0), Decimal(0), Decimal(0)])
    for e in costs:
        row = found[(e.service, e.currency)]
        for line in e.lines:
            if line.account.startswith(DOWNTIME_EXPENSE):
                row[0] += line.debit
            elif line.account.startswith(EFFORT_EXPENSE):
                row[1] += line.debit
        row[2] += 1
    return [IncidentCostLine(service=s, currency=c, downtime=d, effort=f, total=d + f,
                             incidents=int(n)) for (s, c), (d, f, n) in sorted(found.items())]


def budget_lines(month: str, costs: list[Entry], rates: CostRates) -> list[BudgetLine]:
    actual_by_service: dict[str, Decimal] = defaultdict(Decimal)
    for e in costs:
        if e.currency == rates.currency:
            actual_by_service[e.service] += e.amount
    lines = []
    for b in sorted((b for b in rates.budgets if b.month == month),
                    key=lambda b: (b.scope, b.name)):
        if b.scope == "service":
            actual = actual_by_service.get(b.name, Decimal(0))
        else:
            actual = sum((a for s, a in actual_by_service.items()
                          if rates.cost_centres.get(s) == b.name), Decimal(0))
        lines.append(BudgetLine(scope=b.scope, name=b.name, currency=rates.currency,
                                budget=b.amount, actual=actual, variance=b.amount - actual))
    return lines


def finance_summary(month: str, entries: list[Entry], rates: CostRates) -> FinanceSummary:
    penalties = [e for e in entries if e.kind == "penalty"]
    costs = [e for e in entries if e.kind == "incident_cost"]
    rows, totals, count = summarise((e.supplier or "", e.service, e.currency, e.amount)
                                    for e in penalties)
    top = sorted(costs, key=lambda e: (-e.amount, e.incident_id or ""))[:TOP]
    return FinanceSummary(
        month=month, totals=totals, entries=count,
        lines=[SummaryLine(supplier=r.supplier, service=r.service, currency=r.currency,
                           amount=r.amount, entries=r.entries) for r in rows],
        budgets=budget_lines(month, costs, rates),
        penalties_by_supplier=_totals((e.supplier or "", e.currency, e.amount)
                                      for e in penalties),
        penalties_by_service=_totals((e.service, e.currency, e.amount) for e in penalties),
        incident_cost_by_service=_cost_lines(costs),
        top_incidents=[CostlyIncident(incident_id=e.incident_id or "", service=e.service,
                                      currency=e.currency, amount=e.amount,
                                      entry_id=e.entry_id) for e in top],
        late_entries=sum(1 for e in entries if e.original_period is not None))
