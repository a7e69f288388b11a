"""``reasonops tokens create|list|revoke``: API tokens for the REST API and MCP server."""

from __future__ import annotations

from typing import Annotated

import typer

from reasonops_contracts.gateway import (
    ApiTokenIssued,
    ApiTokenList,
    ApiTokenView,
    CreateApiToken,
    ListApiTokens,
    RevokeApiToken,
)

from .connection import ask
from .output import emit_json, table, when

app = typer.Typer(help="API tokens: how people and programs authenticate to the REST API "
                  "and the MCP server.", no_args_is_help=True)
Json = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


@app.command()
def create(
    name: Annotated[str, typer.Option("--name", help="What it is for, e.g. 'grafana'.")],
    for_: Annotated[str | None, typer.Option(
        "--for", help="The person it acts for (user:alice); default: you. Needs "
        "token.create.")] = None,
    role: Annotated[list[str] | None, typer.Option(
        "--role", help="Only this role of theirs (repeat); default: all their roles.")]
    = None,
    expires_in_days: Annotated[int, typer.Option(
        "--expires-in-days", help="0: never expires.")] = 90,
    json: Json = False,
) -> None:
    """Issue a token; its secret is shown this once (only a hash is kept)."""
    issued = ask(CreateApiToken(name=name, principal=for_, roles=role or [],
                                expires_in_days=expires_in_days or None), ApiTokenIssued)
    if json:
        emit_json(issued)
        return
    expires = when(issued.expires_at) if issued.expires_at else "never"
    typer.echo(f"Token {issued.token_id} for {issued.principal} (expires {expires}). "
               f"Shown once, keep it:\n\n  {issued.token}\n\nSend it as 'Authorization: "
               f"Bearer <token>', or export REASONOPS_TOKEN for the SDK.")


@app.command("list")
def list_(
    for_: Annotated[str | None, typer.Option("--for", help="Only this person's "
                                             "(needs token.revoke for others').")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Revoked ones too.")] = False,
    json: Json = False,
) -> None:
    """Your tokens; with token.revoke, everybody's."""
    found = ask(ListApiTokens(principal=for_, include_revoked=all_), ApiTokenList)
    if json:
        emit_json(found)
        return
    if not found.items:
        typer.echo("No tokens.")
        return
    typer.echo(table(["TOKEN", "NAME", "FOR", "ROLES", "CREATED", "EXPIRES", "LAST USED",
                      "REVOKED"],
                     [[t.token_id, t.name, t.principal, ",".join(t.roles) or "all",
                       when(t.created_at), when(t.expires_at) if t.expires_at else "never",
                       when(t.last_used_at) if t.last_used_at else "-",
                       when(t.revoked_at) if t.revoked_at else "-"] for t in found.items]))


@app.command()
def revoke(token_id: Annotated[str, typer.Argument(help="tok_...")], json: Json = False) -> None:
    """Revoke a token: every gateway refuses it from now on."""
    found = ask(RevokeApiToken(token_id=token_id), ApiTokenView)
    if json:
        emit_json(found)
        return
    typer.echo(f"Token {found.token_id} of {found.principal} revoked.")
