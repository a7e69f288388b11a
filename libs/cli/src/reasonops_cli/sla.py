"""``reasonops sla status``."""

from __future__ import annotations

from typing import Annotated

import typer

from reasonops_contracts.slm import GetSlaStatus, SlaStatus

from .connection import ask
from .output import duration, emit_json, table, when

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
        ["CLOCK", "STATE", "POLICY", "TARGET", "DEADLINE (UTC)", "ELAPSED", "TIME LEFT", "USED"],
        [[c.kind, c.state, c.policy, duration(c.target_seconds), when(c.deadline),
          duration(c.elapsed_seconds),
          duration(c.remaining_seconds) if c.state == "running" else "-",
          f"{c.percent_consumed:.0f}%"] for c in found.clocks]))
    for p in found.penalties:
        typer.echo(f"Penalty {p.penalty_id}: {p.amount} {p.currency} from {p.supplier} "
                   f"({p.reason})")
