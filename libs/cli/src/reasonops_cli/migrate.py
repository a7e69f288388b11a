"""``reasonops migrate``: bring the services' databases to this release's schema, as a step
of its own (a Kubernetes Job before the Deployments roll) rather than on each start."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated, Any

import typer

from .connection import CliError
from .output import emit_json, table
from .run import installed_services


def migrate(
    services: Annotated[list[str] | None, typer.Argument(
        help="Services whose databases to migrate; default: every installed one.")] = None,
    to: Annotated[str, typer.Option(
        "--to", help="Revision to bring every set of tables to (0001: the first release "
        "with migrations); default: this release's.")] = "head",
    status: Annotated[bool, typer.Option(
        "--status", help="Only show each set's revision and this release's; change "
        "nothing.")] = False,
    data_dir: Annotated[Path, typer.Option(
        envvar="REASONOPS_DATA_DIR", help="Where the services keep their SQLite files "
        "(ignored with REASONOPS_DATABASE_URL).")] = Path(".reasonops"),
    json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Migrate the services' databases (each set of tables: the kit's, the service's, an
    agent queue's) to this release's schema; `--status` shows where they are."""
    found = installed_services()
    names = services or list(found)
    unknown = sorted(set(names) - set(found))
    if unknown:
        raise CliError(f"unknown service(s) {', '.join(unknown)}; installed: "
                       f"{', '.join(found)}")
    os.environ["REASONOPS_DATA_DIR"] = str(data_dir)
    rows = asyncio.run(_each(names, found, to, status))
    if json:
        emit_json([dict(zip(("service", "tables", "was", "now", "head"), r, strict=True))
                   for r in rows])
        return
    typer.echo(table(["SERVICE", "TABLES", "WAS", "NOW", "HEAD"],
                     [[cell or "-" for cell in r] for r in rows]))


async def _each(names: list[str], found: dict[str, Any], target: str,
                status: bool) -> list[tuple[str, str, str | None, str | None, str | None]]:
    rows = []
    for name in names:
        service = found[name].load()()
        if service.store.url.startswith("sqlite"):
            service.settings.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            if not status:
                await service.store.ensure_database()
            heads = await service.store.schema_status()
            moved = ({n: (current, current) for n, (current, _) in heads.items()} if status
                     else await _migrate(service, name, target))
        finally:
            await service.store.close()
        for tables, (was, now) in moved.items():
            rows.append((name, tables, was, now, heads[tables][1]))
    return rows


async def _migrate(service: Any, name: str,
                   target: str) -> dict[str, tuple[str | None, str | None]]:
    """(was, now) per set of tables."""
    try:
        return dict(await service.store.migrate(target))
    except Exception as exc:  # alembic names the revision it cannot find
        raise CliError(f"{name}: cannot migrate to {target!r}: {exc}") from exc
