"""``reasonops sla status|clocks|policies|report``."""

from __future__ import annotations

from typing import Annotated

import typer
from pydantic import ValidationError

from reasonops_contracts.slm import (
    Attention,
    GetSlaReport,
    GetSlaStatus,
    ListSlaClocks,
    ListSlaPolicies,
    SlaClockList,
    SlaPolicyList,
    SlaReport,
    SlaStatus,
)

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


@app.command()
def clocks(
    attention: Annotated[Attention, typer.Argument(
        help="at_risk (75% of the target used), breached (overdue, not yet stopped) or "
             "running.")] = "at_risk",
    at_risk_percent: Annotated[int, typer.Option(
        "--at-risk-percent", help="At risk from 50, 75 or 90% of the target.")] = 75,
    service: Annotated[str | None, typer.Option(help="Only this service.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
    json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """The SLA clocks that need someone now, across incidents, earliest deadline first:
    at risk, breached, or every running one."""
    try:
        asked = ListSlaClocks(attention=attention, at_risk_percent=at_risk_percent,
                              service=service, limit=limit)
    except ValidationError:
        fail("--at-risk-percent: 50, 75 or 90")
    found = ask(asked, SlaClockList)
    if json:
        emit_json(found)
        return
    if not found.items:
        typer.echo(f"No clocks {attention.replace('_', ' ')} now.")
        return
    typer.echo(table(
        ["INCIDENT", "SERVICE", "CLOCK", "AGREEMENT", "PRIORITY", "DEADLINE (UTC)",
         "TIME LEFT", "USED"],
        [[c.incident_id, c.service or "-", c.kind, c.agreement + (f" {c.party}" if c.party
                                                                   else ""),
          f"P{c.priority}", when(c.deadline),
          f"overdue {duration(c.elapsed_seconds - c.target_seconds)}"
          if c.state == "breached" else duration(c.remaining_seconds),
          f"{c.percent_consumed:.0f}%" + (" (paused)" if c.paused else "")]
         for c in found.items]))
    if found.total > len(found.items):
        typer.echo(f"{len(found.items)} of {found.total}; raise --limit for more.")


@app.command()
def policies(
    service: Annotated[str | None, typer.Option(
        help="Only what applies to this service.")] = None,
    json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """The SLA definitions in force (targets per priority, a service's own where it has
    them) and the assignment groups' OLAs."""
    found = ask(ListSlaPolicies(service=service), SlaPolicyList)
    if json:
        emit_json(found)
        return
    typer.echo(table(
        ["AGREEMENT", "NAME", "FOR", "PRIORITY", "RESPONSE", "RESOLUTION", "SCHEDULE",
         "PAUSES ON"],
        [[p.agreement, p.name, p.group or p.service or "every service", f"P{p.priority}",
          duration(p.response_seconds), duration(p.resolution_seconds), p.schedule,
          ", ".join(p.pause_on) or "never"] for p in found.items]))


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
