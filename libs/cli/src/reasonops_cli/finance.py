"""``reasonops finance summary|entries``."""

from __future__ import annotations

from typing import Annotated

import typer

from reasonops_contracts.finance import (
    FinanceSummary,
    GetFinanceSummary,
    LedgerEntryList,
    ListLedgerEntries,
)

from .connection import ask
from .output import emit_json, table, when

app = typer.Typer(help="Finance: supplier penalties booked in the ledger.", no_args_is_help=True)

Json = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


@app.command()
def summary(
    month: Annotated[str, typer.Option(help="Accounting month, YYYY-MM.")],
    json: Json = False,
) -> None:
    """Penalties booked in a month, by supplier and service."""
    found = ask(GetFinanceSummary(month=month), FinanceSummary)
    if json:
        emit_json(found)
        return
    if not found.lines:
        typer.echo(f"No ledger entries in {month}.")
        return
    typer.echo(table(["SUPPLIER", "SERVICE", "ENTRIES", "AMOUNT", "CURRENCY"],
                     [[ln.supplier, ln.service, ln.entries, ln.amount, ln.currency]
                      for ln in found.lines]))
    totals = ", ".join(f"{amount} {currency}" for currency, amount in sorted(found.totals.items()))
    typer.echo(f"\nTotal {month}: {totals} in {found.entries} entries")


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
    typer.echo(table(["ENTRY", "POSTED (UTC)", "INCIDENT", "SUPPLIER", "AMOUNT", "CURRENCY"],
                     [[e.entry_id, when(e.posted_at), e.incident_id, e.supplier, e.amount,
                       e.currency] for e in found.items]))
