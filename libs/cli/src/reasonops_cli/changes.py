"""``reasonops changes request|list|show|start|complete|cancel|calendar|metrics``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from pydantic import ValidationError

from reasonops_contracts.changes import (
    CancelChange,
    ChangeCalendar,
    ChangeList,
    ChangeMetrics,
    ChangeView,
    CompleteChange,
    GetChange,
    GetChangeCalendar,
    GetChangeMetrics,
    ListChanges,
    RequestChange,
    StartChange,
)

from .connection import ask, fail
from .incidents import Json
from .output import emit_json, table, when

app = typer.Typer(help="Change management: requests, approval, the calendar, outcomes.",
                  no_args_is_help=True)
When = Annotated[datetime | None, typer.Option(
    help="A time (ISO 8601; without an offset: UTC).")]
ChangeId = Annotated[str, typer.Argument(help="CHG0000001")]
Note = Annotated[str | None, typer.Option(help="Why, or what happened.")]


def _utc(value: datetime | None) -> datetime | None:
    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


def _refused(exc: ValidationError) -> None:
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error["loc"])
    fail(f"{where + ': ' if where else ''}{str(error['msg']).removeprefix('Value error, ')}")


def _line(c: ChangeView) -> str:
    return (f"{c.change_id} {c.type} change, {c.state}, {c.risk} risk ({c.risk_reason}): "
            f"{c.title}; {', '.join(c.services)} from {when(c.planned_start)} to "
            f"{when(c.planned_end)} UTC")


def _print(c: ChangeView) -> None:
    typer.echo(_line(c))
    if c.approved_by or c.decision:
        typer.echo(f"  decision: {c.decision or '-'} ({', '.join(c.approved_by) or '-'})")
    for name, text in (("implementation", c.implementation_plan), ("back-out", c.backout_plan),
                       ("note", c.note)):
        if text:
            typer.echo(f"  {name}: {text}")
    if c.outcome:
        typer.echo(f"  outcome: {c.outcome} at {when(c.completed_at)} UTC")
    if c.review_due:
        typer.echo("  review due (an emergency change)")
    for linked in c.incidents:
        typer.echo(f"  incident {linked.incident_id}: {linked.reason}")


@app.command()
def request(
    kind: Annotated[str, typer.Argument(help="standard, normal or emergency.")],
    start: Annotated[datetime, typer.Option(help="Planned start (no offset: UTC).")],
    title: Annotated[str | None, typer.Option(help="What changes (a standard change: "
                                                   "its template's).")] = None,
    end: When = None,
    service: Annotated[list[str] | None, typer.Option(
        help="An affected service; repeatable.")] = None,
    impact: Annotated[int, typer.Option(min=1, max=3, help="1 widespread .. 3 one team.")
                      ] = 3,
    plan: Annotated[str | None, typer.Option(help="The implementation plan.")] = None,
    backout: Annotated[str | None, typer.Option(help="The back-out plan.")] = None,
    template: Annotated[str | None, typer.Option(help="A standard change's template.")
                        ] = None,
    description: Annotated[str | None, typer.Option(help="Why.")] = None,
    json: Json = False,
) -> None:
    """Request a change; refused with the reason when it collides with another change
    on a service, or a freeze."""
    try:
        command = RequestChange(
            type=kind, title=title, description=description,  # type: ignore[arg-type]
            services=service or [], impact=impact, planned_start=_utc(start),
            planned_end=_utc(end), implementation_plan=plan, backout_plan=backout,
            template=template)
    except ValidationError as exc:
        _refused(exc)
    found = ask(command, ChangeView)
    if json:
        emit_json(found)
        return
    _print(found)


@app.command("list")
def list_(
    state: Annotated[list[str] | None, typer.Option(help="requested, approved, "
                                                         "implementing, ...")] = None,
    service: Annotated[str | None, typer.Option()] = None,
    incident: Annotated[str | None, typer.Option(help="Changes linked to an incident.")
                        ] = None,
    json: Json = False,
) -> None:
    """Changes, newest first."""
    try:
        query = ListChanges(states=state, service=service,  # type: ignore[arg-type]
                            incident_id=incident)
    except ValidationError as exc:
        _refused(exc)
    found = ask(query, ChangeList)
    if json:
        emit_json(found)
        return
    typer.echo(table(["CHANGE", "TYPE", "STATE", "RISK", "SERVICES", "FROM (UTC)", "TITLE"],
                     [[c.change_id, c.type, c.state, c.risk, ",".join(c.services),
                       when(c.planned_start), c.title] for c in found.items]))


@app.command()
def show(change_id: ChangeId, json: Json = False) -> None:
    """A change: its plans, decision, outcome and the incidents that followed it."""
    found = ask(GetChange(change_id=change_id), ChangeView)
    if json:
        emit_json(found)
        return
    _print(found)


def _act(command: StartChange | CompleteChange | CancelChange, json: bool) -> None:
    found = ask(command, ChangeView)
    if json:
        emit_json(found)
        return
    typer.echo(_line(found))


@app.command()
def start(change_id: ChangeId, note: Note = None, json: Json = False) -> None:
    """Begin implementing (within its window); its services get a maintenance window."""
    _act(StartChange(change_id=change_id, note=note), json)


@app.command()
def complete(
    change_id: ChangeId,
    outcome: Annotated[str, typer.Option(help="successful, failed or backed_out.")],
    note: Note = None, json: Json = False,
) -> None:
    """The change is done; its maintenance window ends."""
    try:
        command = CompleteChange(change_id=change_id, outcome=outcome,  # type: ignore[arg-type]
                                 note=note)
    except ValidationError as exc:
        _refused(exc)
    _act(command, json)


@app.command()
def cancel(change_id: ChangeId, note: Note = None, json: Json = False) -> None:
    """Withdraw a change not yet implementing."""
    _act(CancelChange(change_id=change_id, note=note), json)


@app.command()
def calendar(start: When = None, end: When = None,
             service: Annotated[str | None, typer.Option()] = None,
             json: Json = False) -> None:
    """Changes and freezes (default: the next 14 days), and the standard templates."""
    found = ask(GetChangeCalendar(start=_utc(start), end=_utc(end), service=service),
                ChangeCalendar)
    if json:
        emit_json(found)
        return
    rows = [[when(c.planned_start), when(c.planned_end), c.change_id, c.state,
             ",".join(c.services), c.title] for c in found.changes]
    rows += [[when(f.start), when(f.end), "FREEZE", f.name, ",".join(f.services) or "all",
              f.reason] for f in found.freezes]
    typer.echo(table(["FROM (UTC)", "TO (UTC)", "WHAT", "STATE", "SERVICES", "TITLE"],
                     sorted(rows)))
    for t in found.templates:
        typer.echo(f"template {t.name}: {t.title} ({', '.join(t.services)}; "
                   f"{t.duration_minutes} min)")


@app.command()
def metrics(month: Annotated[str, typer.Argument(help="YYYY-MM")], json: Json = False
            ) -> None:
    """Change success rate, change-caused incident rate, emergency change ratio."""
    try:
        query = GetChangeMetrics(month=month)
    except ValidationError as exc:
        _refused(exc)
    found = ask(query, ChangeMetrics)
    if json:
        emit_json(found)
        return

    def pct(value: float | None) -> str:
        return "-" if value is None else f"{value:.0%}"

    typer.echo(f"{found.month}: {found.completed} change(s) completed; success "
               f"{pct(found.success_rate)}, followed by an incident "
               f"{pct(found.change_caused_incident_rate)} ({found.caused_incidents} "
               f"incident(s)), emergency {pct(found.emergency_ratio)}")
