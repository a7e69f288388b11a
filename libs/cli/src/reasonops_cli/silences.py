"""``reasonops silences create|list|show|expire``: silences and maintenance windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

from reasonops_contracts.incidents import (
    CreateSilence,
    ExpireSilence,
    GetSilence,
    ListSilences,
    RecurringSchedule,
    SilenceList,
    SilenceView,
)
from reasonops_runtime.durations import whole_seconds

from .connection import CliError, ask
from .incidents import Actor, Json, _actor_default
from .output import emit_json, table, when

app = typer.Typer(help="Silences and maintenance windows: matching alerts are recorded but "
                       "open no incident and page no one.", no_args_is_help=True)
SilenceId = Annotated[str, typer.Argument(help="Silence number, e.g. SIL0000001.")]


def _seconds(text: str) -> int:
    try:
        return whole_seconds(text)
    except ValueError as exc:
        raise CliError(f"--duration: {exc}") from None


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


@app.command()
def create(
    matcher: Annotated[list[str], typer.Argument(
        help='Matchers, all must hold: service=checkout "alertname=~Disk.*" "severity!=info"')],
    reason: Annotated[str, typer.Option(help="Why (required).")],
    duration: Annotated[str | None, typer.Option(
        help="How long from the start, e.g. 2h (or give --end).")] = None,
    start: Annotated[datetime | None, typer.Option(help="Start (UTC); default now.")] = None,
    end: Annotated[datetime | None, typer.Option(help="End (UTC).")] = None,
    every: Annotated[str | None, typer.Option(
        help="Recurring: weekdays, e.g. sat,sun (with --at and --duration).")] = None,
    at: Annotated[str | None, typer.Option(help="Recurring: start time HH:MM UTC.")] = None,
    until: Annotated[datetime | None, typer.Option(help="Recurring: last day (UTC).")] = None,
    maintenance: Annotated[bool, typer.Option(
        "--maintenance", help="A planned maintenance window rather than a silence.")] = False,
    author: Actor = "",
    json: Json = False,
) -> None:
    """Create a silence (or --maintenance window): one-off or recurring."""
    starts = _utc(start)
    schedule = None
    ends = _utc(end)
    if every:
        if not (at and duration):
            raise CliError("a recurring window needs --every, --at and --duration")
        schedule = RecurringSchedule(days=[d.strip().lower()[:3] for d in every.split(",")],  # type: ignore[misc]
                                     start=at, duration_seconds=_seconds(duration))
    elif duration and ends is None:
        ends = (starts or datetime.now(UTC)) + timedelta(seconds=_seconds(duration))
    view = ask(CreateSilence(kind="maintenance" if maintenance else "silence",
                             matchers=matcher, starts_at=starts, ends_at=ends,
                             schedule=schedule, until=_utc(until),
                             author=author or _actor_default(), reason=reason), SilenceView)
    if json:
        emit_json(view)
    else:
        typer.echo(f"{view.silence_id} created ({view.kind}, {view.state}).")


@app.command("list")
def list_(all_: Annotated[bool, typer.Option("--all", help="Include expired ones.")] = False,
          json: Json = False) -> None:
    """List silences and maintenance windows still pending or active."""
    found = ask(ListSilences(include_expired=all_), SilenceList)
    if json:
        emit_json(found)
        return
    if not found.items:
        typer.echo("No silences.")
        return
    typer.echo(table(["SILENCE", "KIND", "STATE", "MATCHERS", "STARTS", "ENDS", "MATCHED",
                      "AUTHOR", "REASON"],
                     [[s.silence_id, s.kind, s.state, " ".join(s.matchers), when(s.starts_at),
                       when(s.ends_at) if s.schedule is None else
                       f"{','.join(s.schedule.days)} {s.schedule.start} "
                       f"+{s.schedule.duration_seconds}s", s.matched_alerts, s.author,
                       s.reason[:40]] for s in found.items]))


@app.command()
def show(silence_id: SilenceId, json: Json = False) -> None:
    """Show a silence and the alerts it held back."""
    view = ask(GetSilence(silence_id=silence_id), SilenceView)
    if json:
        emit_json(view)
        return
    typer.echo(f"{view.silence_id} {view.kind} {view.state}: {' '.join(view.matchers)}")
    typer.echo(f"by {view.author}: {view.reason}; {view.matched_alerts} alerts matched")
    if view.alerts:
        typer.echo(table(["FINGERPRINT", "ALERT", "SERVICE", "RESOURCE", "STATUS", "LAST SEEN"],
                         [[a.fingerprint, a.name or "-", a.service or "-", a.resource or "-",
                           a.status, when(a.last_seen_at)] for a in view.alerts]))


@app.command()
def expire(silence_id: SilenceId, actor: Actor = "", json: Json = False) -> None:
    """End a silence now."""
    view = ask(ExpireSilence(silence_id=silence_id, actor=actor or _actor_default()),
               SilenceView)
    if json:
        emit_json(view)
    else:
        typer.echo(f"{view.silence_id} expired.")
