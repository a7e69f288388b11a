"""``reasonops identities list|add|remove``: the identities in the data directory (see
``credentials``), and operators less privileged than the local admin."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .connection import CliError
from .credentials import (
    add_operator,
    export,
    read_registry,
    reload_server,
    remove_operator,
    seed_file,
)
from .output import emit_json, table

app = typer.Typer(help="Identities: who may connect to NATS and speak for which principals.",
                  no_args_is_help=True)
DataDir = Annotated[Path, typer.Option(envvar="REASONOPS_DATA_DIR",
                                       help="Where `reasonops up` keeps its data.")]
Json = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


@app.command("list")
def list_(data_dir: DataDir = Path(".reasonops"), json_: Json = False) -> None:
    """Every identity: its kind, its own principal and whom else it may speak for."""
    entries = read_registry(data_dir)
    if not entries:
        raise CliError(f"no identity registry in {data_dir}; run `reasonops up` once first")
    if json_:
        emit_json({name: {k: v for k, v in entry.items()} for name, entry in entries.items()})
        return
    typer.echo(table(["IDENTITY", "KIND", "PRINCIPAL", "MAY ALSO SPEAK FOR", "PUBLIC KEY"],
                     [[name, e.get("kind", "service"), e["principal"],
                       ", ".join(e.get("speaks_for", [])) or "-", e["public_key"][:12] + "..."]
                      for name, e in sorted(entries.items())]))


@app.command()
def add(name: Annotated[str, typer.Argument(help="The identity's name, e.g. bob.")],
        principal: Annotated[str, typer.Option(
            help="Who it acts as; default user:NAME.")] = "",
        speaks_for: Annotated[list[str] | None, typer.Option(
            "--speaks-for", help="Another user it may act for (--as); repeatable; user:* "
            "for every user.")] = None,
        data_dir: DataDir = Path(".reasonops")) -> None:
    """A less privileged operator: sends commands and queries as PRINCIPAL only (the role
    policy decides what that principal may do), reads streams, manages nothing."""
    try:
        add_operator(data_dir, name, principal or f"user:{name}", speaks_for or [])
    except ValueError as exc:
        raise CliError(str(exc)) from None
    reloaded = reload_server(data_dir)
    key = seed_file(data_dir, name)
    typer.echo(f"{name} created: acts as {principal or f'user:{name}'}; key {key} (mode 0600)")
    typer.echo(f"use it:  REASONOPS_NATS_CREDS={key} reasonops incidents list")
    if not reloaded:
        typer.echo("the embedded nats-server is not running: it will know the key at the "
                   "next `reasonops up`")


@app.command()
def remove(name: Annotated[str, typer.Argument(help="An operator made with `add`.")],
           data_dir: DataDir = Path(".reasonops")) -> None:
    """Remove an operator: its key no longer connects nor signs."""
    try:
        remove_operator(data_dir, name)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    reload_server(data_dir)
    typer.echo(f"{name} removed")


@app.command("export")
def export_(folder: Annotated[Path, typer.Argument(help="Where to write them.")],
            routes: Annotated[int, typer.Option(
                help="Cluster nodes nats-0..N-1: write their route credentials too.")] = 0,
            owner: Annotated[str, typer.Option(
                help="UID:GID to own the files (a container's user).")] = "") -> None:
    """Keys, registry and server users for a deployment (compose's `identities` job,
    a Kubernetes overlay's identities/); existing keys are kept."""
    ids: tuple[int, int] | None = None
    if owner:
        try:
            uid, gid = (int(p) for p in owner.split(":"))
        except ValueError:
            raise CliError(f"--owner {owner!r}: give UID:GID, e.g. 10001:10001") from None
        ids = (uid, gid)
    written = export(folder, routes=routes, owner=ids)
    typer.echo(f"{len(written)} files in {folder}: nats-auth.conf (the server's users), "
               "identities.json (the registry), credentials/*.nk (one key each, mode 0600)"
               + (", nats-cluster.conf (routes)" if routes else ""))
