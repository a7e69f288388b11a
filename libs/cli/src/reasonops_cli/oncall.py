"""``reasonops oncall schedules|who|shifts|override|remove``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from pydantic import ValidationError

from reasonops_contracts.oncall import (
    CreateOverride,
    GetShifts,
    ListSchedules,
    OnCallNow,
    OverrideView,
    RemoveOverride,
    ScheduleList,
    ShiftList,
    WhoIsOnCall,
)

from .connection import ask, fail
from .incidents import Json
from .output import emit_json, table, when

app = typer.Typer(help="On call: schedules, who carries the pager, overrides.",
                  no_args_is_help=True)
When = Annotated[datetime | None, typer.Option(
    help="A time (ISO 8601; without an offset: UTC).")]


def _utc(value: datetime | None) -> datetime | None:
    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


def _now_line(found: OnCallNow) -> str:
    if found.person is None:
        who = "nobody (a gap)"
    else:
        contacts = ", ".join(f"{c.kind} {c.address}" for c in found.person.contacts)
        who = f"{found.person.name} ({found.person.user}{'; ' + contacts if contacts else ''})"
    span = f" since {when(found.since)}" if found.since else ""
    span += f" until {when(found.until)} UTC" if found.until else ""
    return f"{found.schedule}: {who}, {found.layer or '-'}{span}"


@app.command()
def schedules(json: Json = False) -> None:
    """Every schedule you may read: layers, who is on call now, gaps in the next 14 days."""
    found = ask(ListSchedules(), ScheduleList)
    if json:
        emit_json(found)
        return
    if found.error:
        typer.secho(f"the last change of the on-call file was refused: {found.error}",
                    err=True, fg=typer.colors.YELLOW)
    if not found.items:
        typer.echo("No schedule (set REASONOPS_ONCALL to an on-call file).")
        return
    typer.echo(table(["SCHEDULE", "TEAM", "ZONE", "LAYERS", "ON CALL NOW", "UNTIL (UTC)",
                      "GAPS 14D"],
                     [[s.name, s.team or "-", s.time_zone,
                       "; ".join(f"{la.name}: {la.rotation} {','.join(la.users)}"
                                 + (f" ({la.restriction})" if la.restriction else "")
                                 for la in s.layers),
                       s.on_call.person.user if s.on_call.person else "nobody",
                       when(s.on_call.until), s.gaps_next_14_days] for s in found.items]))


@app.command()
def who(
    schedule: Annotated[str | None, typer.Argument(help="A schedule.")] = None,
    service: Annotated[str | None, typer.Option(help="Instead: a service.")] = None,
    at: When = None,
    json: Json = False,
) -> None:
    """Who is on call now (or --at a time) for a schedule or a service."""
    try:
        query = WhoIsOnCall(schedule=schedule, service=service, at=_utc(at))
    except ValidationError:
        fail("give a schedule or --service, not both")
    found = ask(query, OnCallNow)
    if json:
        emit_json(found)
        return
    typer.echo(_now_line(found))


@app.command()
def shifts(
    schedule: Annotated[str, typer.Argument(help="A schedule.")],
    start: When = None,
    end: When = None,
    ical: Annotated[bool, typer.Option("--ical", help="Print iCalendar (RFC 5545).")] = False,
    json: Json = False,
) -> None:
    """A schedule's turns (default: the next 14 days) and its gaps."""
    try:
        query = GetShifts(schedule=schedule, start=_utc(start), end=_utc(end))
    except ValidationError as exc:
        fail(str(exc.errors()[0]["msg"]).removeprefix("Value error, "))
    found = ask(query, ShiftList)
    if json:
        emit_json(found)
        return
    if ical:
        typer.echo(found.calendar, nl=False)
        return
    typer.echo(table(["FROM (UTC)", "TO (UTC)", "ON CALL", "LAYER"],
                     [[when(s.start), when(s.end), s.user or "nobody (gap)", s.layer or "-"]
                      for s in found.shifts]))
    typer.echo(f"{len(found.gaps)} gap(s) from {when(found.start)} to {when(found.end)} UTC.")


@app.command()
def override(
    schedule: Annotated[str, typer.Argument(help="The schedule.")],
    user: Annotated[str, typer.Argument(help="Who takes it.")],
    start: Annotated[datetime, typer.Option(help="From (ISO 8601; no offset: UTC).")],
    end: Annotated[datetime, typer.Option(help="Until.")],
    reason: Annotated[str, typer.Option(help="Why.")] = "",
    json: Json = False,
) -> None:
    """USER is on call for SCHEDULE from --start to --end, whatever its layers say."""
    try:
        command = CreateOverride(schedule=schedule, user=user, start=_utc(start),
                                 end=_utc(end), reason=reason)
    except ValidationError as exc:
        fail(str(exc.errors()[0]["msg"]).removeprefix("Value error, "))
    found = ask(command, OverrideView)
    if json:
        emit_json(found)
        return
    typer.echo(f"{found.override_id}: {found.user} on call for {found.schedule} from "
               f"{when(found.start)} to {when(found.end)} UTC.")


@app.command()
def remove(
    override_id: Annotated[str, typer.Argument(help="OVR0000001")],
    json: Json = False,
) -> None:
    """Remove an override made by command."""
    found = ask(RemoveOverride(override_id=override_id), OverrideView)
    if json:
        emit_json(found)
        return
    typer.echo(f"Removed {found.override_id} ({found.user} on {found.schedule}).")
