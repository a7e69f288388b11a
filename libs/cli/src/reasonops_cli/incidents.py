"""``reasonops incidents list|show|ack|resolve|close|reopen``."""

from __future__ import annotations

from typing import Annotated

import typer

from reasonops_contracts.incidents import (
    AcknowledgeIncident,
    CloseIncident,
    GetIncident,
    IncidentList,
    IncidentState,
    IncidentView,
    ListIncidents,
    ReopenIncident,
    ResolveIncident,
)

from .connection import ask
from .output import emit_json, table, when

app = typer.Typer(help="Incidents: list, inspect and move them through their lifecycle.",
                  no_args_is_help=True)

Json = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
Note = Annotated[str | None, typer.Option("--note", help="Why; kept on the incident.")]
Actor = Annotated[str, typer.Option("--actor", envvar="REASONOPS_ACTOR",
                                    help="Who is acting (default: your user name).")]
IncidentId = Annotated[str, typer.Argument(help="Incident number, e.g. INC0000001.")]


def _actor_default() -> str:
    import getpass

    try:
        return getpass.getuser()
    except Exception:
        return "cli"


@app.command("list")
def list_(
    state: Annotated[list[str] | None, typer.Option("--state", help="Filter; repeatable.")] = None,
    service: Annotated[str | None, typer.Option(help="Only this service.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 50,
    json: Json = False,
) -> None:
    """List incidents, newest first."""
    states: list[IncidentState] | None = state  # type: ignore[assignment]
    found = ask(ListIncidents(states=states, service=service, limit=limit), IncidentList)
    if json:
        emit_json(found)
        return
    if not found.items:
        typer.echo("No incidents.")
        return
    typer.echo(table(
        ["INCIDENT", "STATE", "PRIORITY", "SERVICE", "ALERTS", "OPENED (UTC)", "TITLE"],
        [[i.incident_id, i.state, f"P{i.priority}", i.service or "-", i.alert_count,
          when(i.opened_at), i.title[:60]] for i in found.items]))


@app.command()
def show(incident_id: IncidentId, json: Json = False) -> None:
    """Show one incident."""
    view = ask(GetIncident(incident_id=incident_id), IncidentView)
    if json:
        emit_json(view)
        return
    _print_view(view)


def _print_view(view: IncidentView) -> None:
    rows = [
        ("Incident", view.incident_id), ("Title", view.title), ("State", view.state),
        ("Priority", f"P{view.priority} (impact {view.impact}, urgency {view.urgency})"),
        ("Why", view.priority_reason), ("Service", view.service or "-"),
        ("Resource", view.resource or "-"), ("Severity", view.severity),
        ("Alerts", str(view.alert_count)), ("Fingerprint", view.fingerprint),
        ("Opened", when(view.opened_at)), ("Acknowledged", when(view.acknowledged_at)),
        ("Resolved", when(view.resolved_at)), ("Closed", when(view.closed_at)),
        ("Note", view.note or "-"),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        typer.echo(f"{key.ljust(width)}  {value}")


def _transition(command_cls: type, verb: str, doc: str):  # type: ignore[no-untyped-def]
    def run(incident_id: IncidentId, note: Note = None, actor: Actor = "", json: Json = False
            ) -> None:
        command = command_cls(incident_id=incident_id, note=note,
                              actor=actor or _actor_default())
        view = ask(command, IncidentView)
        if json:
            emit_json(view)
        else:
            typer.echo(f"{view.incident_id} {verb}: now {view.state}.")
    run.__doc__ = doc
    return run


app.command("ack")(_transition(
    AcknowledgeIncident, "acknowledged",
    "Acknowledge an incident: someone is on it (stops the response clock)."))
app.command("resolve")(_transition(
    ResolveIncident, "resolved",
    "Resolve an incident: service restored (stops the resolution clock)."))
app.command("close")(_transition(CloseIncident, "closed", "Close a resolved incident."))
app.command("reopen")(_transition(ReopenIncident, "reopened", "Reopen a resolved incident."))
