"""``reasonops audit trail``: an incident's causal chain from the AUDIT stream."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated

import typer
from nats.aio.client import Client

from reasonops_client.trail import AuditUnavailable, TrailEntry, collect_trail
from reasonops_contracts import subjects

from .connection import CliError, with_nats
from .output import duration, emit_json, table

app = typer.Typer(help="The audit trail: who did what, when, for an incident.",
                  no_args_is_help=True)


@app.command()
def trail(
    incident_id: Annotated[str, typer.Argument(help="Incident number, e.g. INC0000001.")],
    json: Annotated[bool, typer.Option("--json", help="Export every entry with its data as "
                                       "a JSON array.")] = False,
    gap: Annotated[float, typer.Option(help="Show a pause longer than this many seconds "
                                       "between two entries.", min=0)] = 30.0,
    since: Annotated[datetime | None, typer.Option(
        help="Read only what AUDIT stored from this time on (UTC); faster on a long "
             "stream.")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each batch from the "
                                           "broker.", min=0.1)] = 5.0,
) -> None:
    """The causal chain of an incident: monitoring events, incident, agents, workflow,
    approvals, SLA, penalties and ledger, in order, with actors and times."""
    start = since.replace(tzinfo=UTC) if since and since.tzinfo is None else since

    async def go(nc: Client) -> list[TrailEntry]:
        try:
            return await collect_trail(nc, incident_id, timeout=timeout, since=start)
        except AuditUnavailable as exc:
            raise CliError(str(exc)) from None

    entries = with_nats(go)
    if not entries:
        raise CliError(f"no audit records for {incident_id}: unknown incident, or older than "
                       "the AUDIT stream's retention")
    if json:
        emit_json([entry.to_json() for entry in entries])
        return
    typer.echo(render(entries, gap_seconds=gap))


def render(entries: Sequence[TrailEntry], *, gap_seconds: float) -> str:
    """The table, with a line wherever nothing happened for more than ``gap_seconds``."""
    first = entries[0].at
    rows: list[list[str]] = []
    for previous, entry in zip([None, *entries], entries, strict=False):
        if previous is not None:
            pause = (entry.at - previous.at).total_seconds()
            if pause > gap_seconds:
                rows.append(["", "", "", "", f"… {duration(pause)} without activity …"])
        rows.append([entry.at.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
                     _offset((entry.at - first).total_seconds()), entry.actor,
                     subjects.kind(entry.type), entry.summary[:100]])
    return table(["TIME (UTC)", "OFFSET", "ACTOR", "TYPE", "SUMMARY"], rows)


def _offset(seconds: float) -> str:
    # Sub-minute offsets matter (who reacted within how long), so they keep tenths.
    return f"+{seconds:.1f}s" if seconds < 60 else "+" + duration(seconds)
