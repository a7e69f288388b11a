"""``reasonops finance summary|entries|trace|cost|budgets|periods``."""

from __future__ import annotations

from typing import Annotated

import typer

from reasonops_contracts.finance import (
    BudgetList,
    ClosePeriod,
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

from .connection import ask, fail, principal
from .output import emit_json, table, when
from .tables import emit_csv

app = typer.Typer(help="Finance: the ledger of penalties and incident costs, budgets, "
                       "periods.", no_args_is_help=True)
periods_app = typer.Typer(help="Accounting periods (months): list and close.",
                          no_args_is_help=True)
app.add_typer(periods_app, name="periods")

Json = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
Csv = Annotated[bool, typer.Option("--csv", help="Print CSV.")]
Month = Annotated[str, typer.Option(help="Accounting month, YYYY-MM.")]


def _summary_rows(s: FinanceSummary) -> list[list[object]]:
    rows: list[list[object]] = []
    rows += [["budget", f"{b.scope}:{b.name}", b.currency, b.budget, b.actual, b.variance]
             for b in s.budgets]
    rows += [["penalties_by_supplier", p.name, p.currency, p.amount, p.entries, ""]
             for p in s.penalties_by_supplier]
    rows += [["penalties_by_service", p.name, p.currency, p.amount, p.entries, ""]
             for p in s.penalties_by_service]
    rows += [["incident_cost", c.service, c.currency, c.total, c.incidents, ""]
             for c in s.incident_cost_by_service]
    rows += [["top_incident", i.incident_id, i.currency, i.amount, i.service, i.entry_id]
             for i in s.top_incidents]
    return rows


@app.command()
def summary(month: Month, json: Json = False, csv: Csv = False) -> None:
    """A month: budget, actual, variance, penalties by supplier and service, incident cost
    by service, the five costliest incidents."""
    if json and csv:
        fail("choose one of --json and --csv")
    s = ask(GetFinanceSummary(month=month), FinanceSummary)
    if json:
        emit_json(s)
        return
    if csv:
        emit_csv(["section", "name", "currency", "amount", "count_or_actual", "extra"],
                 _summary_rows(s))
        return
    if not (s.entries or s.budgets or s.incident_cost_by_service):
        typer.echo(f"No ledger entries or budgets in {month}.")
        return
    if s.budgets:
        typer.echo(table(["BUDGET", "CURRENCY", "BUDGET", "ACTUAL", "VARIANCE"],
                         [[f"{b.scope} {b.name}", b.currency, b.budget, b.actual, b.variance]
                          for b in s.budgets]) + "\n")
    if s.lines:
        typer.echo(table(["SUPPLIER", "SERVICE", "ENTRIES", "PENALTIES", "CURRENCY"],
                         [[ln.supplier, ln.service, ln.entries, ln.amount, ln.currency]
                          for ln in s.lines]) + "\n")
    if s.incident_cost_by_service:
        typer.echo(table(["SERVICE", "INCIDENTS", "DOWNTIME", "EFFORT", "TOTAL", "CURRENCY"],
                         [[c.service, c.incidents, c.downtime, c.effort, c.total, c.currency]
                          for c in s.incident_cost_by_service]) + "\n")
    if s.top_incidents:
        typer.echo("Costliest incidents:")
        typer.echo(table(["INCIDENT", "SERVICE", "COST", "CURRENCY", "ENTRY"],
                         [[i.incident_id, i.service, i.amount, i.currency, i.entry_id]
                          for i in s.top_incidents]) + "\n")
    totals = ", ".join(f"{amount} {currency}" for currency, amount in sorted(s.totals.items()))
    typer.echo(f"Penalties {month}: {totals or 'none'} in {s.entries} entries"
               + (f"; {s.late_entries} late entries for closed months" if s.late_entries
                  else ""))


@app.command()
def entries(
    month: Annotated[str | None, typer.Option(help="Only this month, YYYY-MM.")] = None,
    incident: Annotated[str | None, typer.Option(help="Only this incident.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many.")] = 100,
    json: Json = False,
) -> None:
    """Ledger entries with their postings."""
    found = ask(ListLedgerEntries(month=month, incident_id=incident, limit=limit),
                LedgerEntryList)
    if json:
        emit_json(found)
        return
    if not found.items:
        typer.echo("No ledger entries.")
        return
    typer.echo(table(["ENTRY", "PERIOD", "KIND", "POSTED (UTC)", "INCIDENT", "SERVICE",
                      "SUPPLIER", "AMOUNT", "CURRENCY"],
                     [[e.entry_id, e.period + (f" (for {e.original_period})"
                                               if e.original_period else ""),
                       e.kind, when(e.posted_at), e.incident_id or "-", e.service,
                       e.supplier or "-", e.amount, e.currency] for e in found.items]))


@app.command()
def trace(
    entry_id: Annotated[str, typer.Argument(help="Ledger entry id.")],
    json: Json = False,
) -> None:
    """Where an entry came from: its postings and the message that caused it."""
    t = ask(TraceEntry(entry_id=entry_id), EntryTrace)
    if json:
        emit_json(t)
        return
    e = t.entry
    typer.echo(f"Entry {e.entry_id} ({e.kind}), period {e.period}, posted {when(e.posted_at)}")
    if e.original_period:
        typer.echo(f"  {e.reference}")
    typer.echo(table(["ACCOUNT", "DEBIT", "CREDIT", "CURRENCY"],
                     [[ln.account, ln.debit, ln.credit, e.currency] for ln in e.lines]))
    typer.echo(f"Origin: {t.origin}")
    typer.echo(f"Caused by message {t.causation_id} ({t.causation_type or 'unknown type'})"
               f", correlation {t.correlation_id or '-'}")
    if e.incident_id:
        typer.echo(f"Incident: {e.incident_id}"
                   + (f"; other entries: {', '.join(t.related)}" if t.related else ""))


@app.command()
def cost(
    incident_id: Annotated[str, typer.Argument(help="Incident number, e.g. INC0000001.")],
    json: Json = False,
) -> None:
    """What an incident costs, booked or not: downtime by its service's tier and the
    responders' effort, to its resolution (or to now while it is open)."""
    c = ask(GetIncidentCost(incident_id=incident_id), IncidentCostView)
    if json:
        emit_json(c)
        return
    to = f"resolved {when(c.until)}" if c.resolved else f"open, as of {when(c.until)}"
    typer.echo(f"{c.incident_id} ({c.service}, {to}): {c.total} {c.currency} "
               f"(downtime {c.downtime}, effort {c.effort})")
    typer.echo(f"  {c.memo}")
    typer.echo(f"  booked as {c.booked_entry_id}" if c.booked_entry_id
               else "  not booked yet: its cost is booked when it closes")


@app.command()
def budgets(month: Month, json: Json = False, csv: Csv = False) -> None:
    """Budgets of a month against the incident cost booked: actual and variance."""
    found = ask(GetBudgets(month=month), BudgetList)
    if json:
        emit_json(found)
        return
    rows = [[b.scope, b.name, b.currency, b.budget, b.actual, b.variance] for b in found.items]
    if csv:
        emit_csv(["scope", "name", "currency", "budget", "actual", "variance"], rows)
        return
    typer.echo(table(["SCOPE", "NAME", "CURRENCY", "BUDGET", "ACTUAL", "VARIANCE"], rows)
               if rows else f"No budgets for {month}.")


@periods_app.command("list")
def list_periods(json: Json = False) -> None:
    """Months with entries, and the closed ones."""
    found = ask(ListPeriods(), PeriodList)
    if json:
        emit_json(found)
        return
    typer.echo(table(["MONTH", "STATE", "ENTRIES", "CLOSED (UTC)", "BY"],
                     [[p.month, p.state, p.entries, when(p.closed_at), p.closed_by or "-"]
                      for p in found.items]) if found.items else "No periods yet.")


@periods_app.command("close")
def close_period(
    month: Annotated[str, typer.Argument(help="Month to close, YYYY-MM.")],
    actor: Annotated[str, typer.Option(help="Who closes it (default: the global --as, "
                                       "else this CLI's identity).")] = "",
    json: Json = False,
) -> None:
    """Close a month: later postings for it go to the next open month, with a reference."""
    p = ask(ClosePeriod(month=month, actor=principal(actor)), PeriodView)
    if json:
        emit_json(p)
        return
    typer.echo(f"Period {p.month} closed at {when(p.closed_at)} by {p.closed_by} "
               f"({p.entries} entries).")
