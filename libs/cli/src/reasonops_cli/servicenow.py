"""``reasonops servicenow status|resync``."""

from __future__ import annotations

from typing import Annotated

import typer
from pydantic import ValidationError

from reasonops_contracts.servicenow import (
    GetServiceNowStatus,
    ResyncResult,
    ResyncServiceNow,
    ServiceNowLink,
    ServiceNowStatus,
)

from .connection import ask, fail
from .incidents import Json
from .output import emit_json, table, when

app = typer.Typer(help="ServiceNow: incidents kept in step with a ServiceNow instance.",
                  no_args_is_help=True)


def _link_rows(links: list[ServiceNowLink]) -> str:
    return table(["INCIDENT", "SERVICENOW", "SYS_ID", "PUSHED (UTC)", "READ (UTC)", "FAILURE"],
                 [[link.incident_id, link.number or "(not created)", link.sys_id or "-",
                   when(link.pushed_at), when(link.pulled_at),
                   (f"{link.failed_field}: " if link.failed_field else "")
                   + (link.failure or "") or "-"] for link in links])


@app.command()
def status(
    incident_id: Annotated[str | None, typer.Argument(
        help="An incident (INC0000001): its ServiceNow record.")] = None,
    json: Json = False,
) -> None:
    """How the sync stands: instance, rules, records linked, pushes waiting, the last poll
    and failures; or one incident's record."""
    try:
        query = GetServiceNowStatus(incident_id=incident_id)
    except ValidationError:
        fail(f"incident_id: {incident_id!r} is not an incident number (INC0000001)")
    found = ask(query, ServiceNowStatus)
    if json:
        emit_json(found.link if found.link is not None else found)
        return
    if found.link is not None:
        link = found.link
        typer.echo(_link_rows([link]))
        for name, value in sorted(link.remote.items()):
            typer.echo(f"  {name}: {value}")
        return
    if not found.configured:
        typer.echo("Not configured: set REASONOPS_SERVICENOW_URL and credentials "
                   "(see docs/guides/servicenow.md).")
        return
    typer.echo(f"ServiceNow {found.instance} ({found.auth}); synced: "
               f"{'; '.join(found.rules) or 'nothing'}")
    typer.echo(f"{found.linked} record(s) linked, {found.pending} push(es) waiting, "
               f"{found.failing} failing.")
    poll = f"last poll {when(found.last_poll_at)} UTC" if found.last_poll_at else "no poll yet"
    typer.echo(f"{poll}{': ' + found.last_poll_error if found.last_poll_error else ''}; "
               f"watermark {found.watermark or '-'}")
    if found.failures:
        typer.echo(_link_rows(found.failures))


@app.command()
def resync(
    incident_ids: Annotated[list[str], typer.Argument(help="Incidents (INC0000001 ...).")],
    force: Annotated[bool, typer.Option(
        "--force", help="Create the record even if no rule chooses the incident.")] = False,
    json: Json = False,
) -> None:
    """Write each incident to its ServiceNow record now and read the record back."""
    try:
        command = ResyncServiceNow(incident_ids=incident_ids, force=force)
    except ValidationError as exc:
        error = exc.errors()[0]
        fail(f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}")
    found = ask(command, ResyncResult, timeout=30.0)
    if json:
        emit_json(found)
        return
    typer.echo(_link_rows(found.items))
