"""``reasonops sla status|report``."""

from __future__ import annotations

from typing import Annotated

import typer

from reasonops_contracts.slm import GetSlaReport, GetSlaStatus, SlaReport, SlaStatus

from .connection import ask, fail
from .output import duration, emit_json, table, when
from .tables import emit_csv

app = typer.Typer(help="Service levels: SLA clocks per incident.", no_args_is_help=True)


@app.command()
def status(
    incident_id: Annotated[str, typer.Argument(help="Incident number, e.g. INC0000001.")],
    json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """Show the SLA clocks of an incident: target, deadline, time left, outcome."""
    found = ask(GetSlaStatus(incident_id=incident_id), SlaStatus)
    if json:
        emit_json(found)
        return
    if not found.clocks:
        typer.echo(f"No SLA clocks for {incident_id} (yet).")
        return
    typer.echo(table(
        ["CLOCK", "AGREEMENT", "STATE", "POLICY", "TARGET", "DEADLINE (UTC)", "ELAPSED",
         "PAUSED", "TIME LEFT", "USED"],
        [[c.kind, c.agreement + (f" {c.party}" if c.party else ""),
          c.state + (" (paused)" if c.paused else ""), c.policy, duration(c.target_seconds),
          when(c.deadline), duration(c.elapsed_seconds), duration(c.paused_seconds),
          duration(c.remaining_seconds) if c.state == "running" else "-",
          f"{c.percent_consumed:.0f}%"] for c in found.clocks]))
    for p in found.penalties:
        typer.echo(f"Penalty {p.penalty_id}: {p.amount} {p.currency} from {p.supplier} "
                   f"({p.reason})")


_REPORT = ["SERVICE", "AVAILABILITY %", "SLO %", "DOWNTIME", "MAINTENANCE", "BUDGET LEFT",
           "BUDGET LEFT %", "INCIDENTS", "MTTA", "MTTR", "MTBF", "BREACHES"]


def _opt(seconds: int | None) -> str:
    return "-" if seconds is None else duration(seconds)


@app.command()
def report(
    month: Annotated[str | None, typer.Option(help="Month, YYYY-MM (UTC).")] = None,
    period_days: Annotated[int | None, typer.Option(
        "--period-days", help="Instead of --month: the last N days up to now.")] = None,
    service: Annotated[str | None, typer.Option(help="Only this service.")] = None,
    json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
    csv: Annotated[bool, typer.Option("--csv", help="Print CSV (one row per service).")]
    = False,
) -> None:
    """A month's (or the last N days') service levels: availability, error budget, MTTA,
    MTTR, MTBF, breaches."""
    if json and csv:
        fail("choose one of --json and --csv")
    if (month is None) == (period_days is None):
        fail("give --month YYYY-MM or --period-days N")
    found = ask(GetSlaReport(month=month, period_days=period_days, service=service),
                SlaReport)
    if json:
        emit_json(found)
        return
    if csv:
        emit_csv([h.lower().replace(" %", "_percent").replace(" ", "_") for h in _REPORT],
                 [[s.service, s.availability, s.slo, s.downtime_seconds,
                   s.maintenance_seconds, s.error_budget_remaining_seconds,
                   s.error_budget_remaining_percent, s.incidents, s.mtta_seconds,
                   s.mttr_seconds, s.mtbf_seconds, s.breaches] for s in found.services])
        return
    if not found.services:
        typer.echo(f"No services measured in {found.month}.")
        return
    typer.echo(table(_REPORT, [
        [s.service, s.availability, s.slo, duration(s.downtime_seconds),
         duration(s.maintenance_seconds),
         ("-" if s.error_budget_remaining_seconds < 0 else "") +
         duration(abs(s.error_budget_remaining_seconds)),
         f"{s.error_budget_remaining_percent}%", s.incidents, _opt(s.mtta_seconds),
         _opt(s.mttr_seconds), _opt(s.mtbf_seconds), s.breaches] for s in found.services]))
    for p in found.penalties:
        typer.echo(f"Penalty {p.penalty_id}: {p.amount} {p.currency} from {p.supplier} "
                   f"({p.reason})")
