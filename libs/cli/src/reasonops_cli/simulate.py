"""``reasonops simulate``: what a history would have cost under draft SLAs and contracts."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .connection import fail
from .output import duration, emit_json, table

if TYPE_CHECKING:
    from .simulation import SimulationResult


def simulate(
    events: Annotated[Path, typer.Option("--events", help="History, one JSON event a line.",
                                         exists=True, dir_okay=False)],
    sla: Annotated[Path, typer.Option("--sla", help="SLA definitions (YAML).", exists=True,
                                      dir_okay=False)],
    contracts: Annotated[Path, typer.Option("--contracts", help="Supplier contracts (YAML).",
                                            exists=True, dir_okay=False)],
    finance: Annotated[Path | None, typer.Option(
        "--finance", help="Cost rates and budgets (YAML).", exists=True, dir_okay=False)]
    = None,
    catalog: Annotated[Path | None, typer.Option(
        "--catalog", help="Service catalog (YAML), for tiers.", exists=True, dir_okay=False)]
    = None,
    step: Annotated[int, typer.Option(help="Replay step in seconds: times round down to it.",
                                      min=1, max=86400)] = 60,
    json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """Replay a history of monitoring events through the real incident, SLM and finance
    services on a simulated clock; print the breaches, penalties and availability."""
    # Imported here: the service kit is heavy, and every other command starts faster.
    from .history import HistoryError, read_history
    from .simulation import Simulation

    try:
        history = read_history(events)
    except HistoryError as exc:
        fail(str(exc))
    started = time.perf_counter()
    simulation = Simulation(sla=sla, contracts=contracts, finance=finance, catalog=catalog,
                            step_seconds=step)
    try:
        result = asyncio.run(simulation.run(history))
    except (HistoryError, ValueError) as exc:
        fail(str(exc))
    seconds = time.perf_counter() - started
    if json:
        emit_json({**result.to_json(), "seconds": round(seconds, 3)})
        return
    _print(result, seconds)


def _print(result: SimulationResult, seconds: float) -> None:
    typer.echo(f"Replayed {result.events} events in {result.steps} steps "
               f"({', '.join(result.months)}) in {seconds:.1f}s; {result.repeats} repeats of "
               f"firing alerts only counted.\n")
    rows = [[m, s.service, s.availability, s.slo, s.incidents, s.breaches,
             duration(s.mttr_seconds) if s.mttr_seconds is not None else "-",
             duration(abs(s.error_budget_remaining_seconds))
             if s.error_budget_remaining_seconds >= 0 else
             "-" + duration(-s.error_budget_remaining_seconds)]
            for m, r in result.reports.items() for s in r.services]
    typer.echo(table(["MONTH", "SERVICE", "AVAILABILITY %", "SLO %", "INCIDENTS", "BREACHES",
                      "MTTR", "BUDGET LEFT"], rows) if rows else "No services measured.")
    penalties = [[m, p.supplier, p.service, p.clause, p.kind, p.amount, p.currency]
                 for m, r in result.reports.items() for p in r.penalties]
    typer.echo("")
    if not penalties:
        typer.echo("No penalties.")
        return
    totals: dict[tuple[str, str, str], object] = {}
    for m, s in result.summaries.items():
        for line in s.penalties_by_supplier:
            totals[(m, line.name, line.currency)] = line.amount
    typer.echo(table(["MONTH", "SUPPLIER", "CURRENCY", "PENALTIES"],
                     [[m, sup, cur, amount] for (m, sup, cur), amount in sorted(totals.items())]))
    typer.echo(f"\n{len(penalties)} penalties; `--json` lists each one.")
