"""``reasonops integrations create|list|revoke|rotate`` and ``reasonops heartbeats list``."""

from __future__ import annotations

from typing import Annotated

import typer

from reasonops_contracts.ingest import (
    CreateIntegration,
    HeartbeatList,
    IntegrationFormat,
    IntegrationKeyIssued,
    IntegrationList,
    LabelMapping,
    ListHeartbeats,
    ListIntegrations,
    RevokeIntegration,
    RotateIntegrationKey,
)

from .connection import CliError, ask
from .output import emit_json, table, when

app = typer.Typer(help="Integrations: each sender's key, defaults and label mappings.",
                  no_args_is_help=True)
heartbeats = typer.Typer(help="Heartbeats: senders that must ping within an interval.",
                         no_args_is_help=True)

Json = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
Name = Annotated[str, typer.Argument(help="Integration name, e.g. prometheus-prod.")]


def _pairs(values: list[str] | None, option: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values or []:
        name, sep, rest = value.partition("=")
        if not sep or not name:
            raise CliError(f"{option} takes NAME=VALUE, got {value!r}")
        pairs[name] = rest
    return pairs


def _mapping(values: list[str] | None) -> LabelMapping:
    """``service=app,svc`` -> LabelMapping(service=["app", "svc"])."""
    found = {k: [n for n in v.split(",") if n] for k, v in _pairs(values, "--map").items()}
    unknown = sorted(set(found) - set(LabelMapping.model_fields))
    if unknown:
        raise CliError(f"--map knows service, resource, severity, team; not {unknown}")
    return LabelMapping.model_validate(found)


def _issued(issued: IntegrationKeyIssued, json: bool, verb: str) -> None:
    if json:
        emit_json(issued)
        return
    typer.echo(f"Integration {issued.integration.name} {verb}. Its key (shown once, keep it):"
               f"\n\n  {issued.key}\n\nSend with 'Authorization: Bearer {issued.key}' or "
               f"'?key={issued.key}'; PagerDuty senders use it as routing_key.")


@app.command()
def create(
    name: Name,
    service: Annotated[str | None, typer.Option(help="Default service of its alerts.")] = None,
    team: Annotated[str | None, typer.Option(help="Default team of its alerts.")] = None,
    format: Annotated[list[str] | None, typer.Option(
        "--format", help="Allowed format (alertmanager, grafana, pagerduty, cloudevents, "
        "event, change, heartbeat); repeatable; default all.")] = None,
    map: Annotated[list[str] | None, typer.Option(
        "--map", help="Labels to read first, e.g. service=app,svc; repeatable.")] = None,
    label: Annotated[list[str] | None, typer.Option(
        "--label", help="Static label NAME=VALUE added to its alerts; repeatable.")] = None,
    rate_limit: Annotated[float | None, typer.Option(help="Events per second.")] = None,
    burst: Annotated[int | None, typer.Option(help="Events allowed at once.")] = None,
    json: Json = False,
) -> None:
    """Register a sender and print its key (kept only as a hash)."""
    formats: list[IntegrationFormat] = format or []  # type: ignore[assignment]
    command = CreateIntegration(name=name, default_service=service, default_team=team,
                                formats=formats, label_mapping=_mapping(map),
                                static_labels=_pairs(label, "--label"),
                                rate_limit_per_second=rate_limit, burst=burst)
    _issued(ask(command, IntegrationKeyIssued), json, "created")


@app.command("list")
def list_(
    all: Annotated[bool, typer.Option("--all", help="Include revoked ones.")] = False,
    json: Json = False,
) -> None:
    """List integrations (keys are shown by their first characters only)."""
    found = ask(ListIntegrations(include_revoked=all), IntegrationList)
    if json:
        emit_json(found)
        return
    if not found.items:
        typer.echo("No integrations.")
        return
    typer.echo(table(
        ["NAME", "STATUS", "KEY", "FORMATS", "SERVICE", "TEAM", "RATE/S", "CREATED (UTC)"],
        [[i.name, i.status, f"{i.key_prefix}...", ",".join(i.formats) or "all",
          i.default_service or "-", i.default_team or "-",
          f"{i.rate_limit_per_second:g}" if i.rate_limit_per_second else "-",
          when(i.created_at)] for i in found.items]))


@app.command()
def revoke(name: Name, json: Json = False) -> None:
    """Refuse the integration's key from now on (403)."""
    found = ask(RevokeIntegration(name=name), IntegrationList)
    if json:
        emit_json(found)
        return
    typer.echo(f"Integration {name} revoked; its key is refused.")


@app.command()
def rotate(
    name: Name,
    grace: Annotated[int, typer.Option(help="Seconds the old key keeps working.")] = 0,
    json: Json = False,
) -> None:
    """Issue a new key; the old one is refused after the grace period."""
    _issued(ask(RotateIntegrationKey(name=name, grace_seconds=grace), IntegrationKeyIssued),
            json, "has a new key")


@heartbeats.command("list")
def list_heartbeats(
    integration: Annotated[str | None, typer.Option(help="Only this integration.")] = None,
    json: Json = False,
) -> None:
    """List heartbeats: interval, last ping, when it is missing, status."""
    found = ask(ListHeartbeats(integration=integration), HeartbeatList)
    if json:
        emit_json(found)
        return
    if not found.items:
        typer.echo("No heartbeats.")
        return
    typer.echo(table(
        ["INTEGRATION", "NAME", "STATUS", "INTERVAL", "LAST PING (UTC)", "DUE (UTC)"],
        [[h.integration, h.name, h.status, f"{h.interval_seconds}s", when(h.last_seen_at),
          when(h.due_at)] for h in found.items]))
