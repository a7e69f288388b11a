"""The ``reasonops`` command."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from reasonops_runtime.settings import SERVICE_PLACEHOLDER

from . import (
    agents,
    audit,
    changes,
    contracts,
    deadletters,
    finance,
    identities,
    incidents,
    integrations,
    oncall,
    policy,
    problems,
    reports,
    scenario,
    servicenow,
    silences,
    sla,
    streams,
    tokens,
    workflows,
)
from .connection import ACTING_AS, CliError, fail
from .migrate import migrate
from .natsd import MEMORY_LIMIT, memory_limit
from .publish import publish
from .run import installed_services, run_service
from .simulate import simulate
from .supervisor import Supervisor
from .up import run_up

app = typer.Typer(help="ReasonOps: alerts in; incidents, SLAs, penalties and a ledger out.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
app.add_typer(incidents.app, name="incidents")
app.add_typer(problems.app, name="problems")
app.add_typer(silences.app, name="silences")
app.add_typer(oncall.app, name="oncall")
app.add_typer(servicenow.app, name="servicenow")
app.add_typer(changes.app, name="changes")
app.add_typer(sla.app, name="sla")
app.add_typer(finance.app, name="finance")
app.add_typer(workflows.app, name="workflows")
app.add_typer(contracts.app, name="contracts")
app.add_typer(integrations.app, name="integrations")
app.add_typer(integrations.heartbeats, name="heartbeats")
app.add_typer(agents.app, name="agents")
app.add_typer(scenario.app, name="scenario")
app.add_typer(audit.app, name="audit")
app.add_typer(policy.app, name="policy")
app.add_typer(identities.app, name="identities")
app.add_typer(streams.app, name="streams")
app.add_typer(deadletters.app, name="deadletters")
app.add_typer(tokens.app, name="tokens")
app.add_typer(reports.app, name="report")


@app.callback()
def acting_as(
    as_: Annotated[str | None, typer.Option(
        "--as", envvar="REASONOPS_ACTOR", metavar="PRINCIPAL",
        help="Send every command as this principal (user:alice), if this CLI's identity "
             "may speak for it; default: the identity's own (the local operator: "
             "user:admin).")] = None,
) -> None:
    """ReasonOps: alerts in; incidents, SLAs, penalties and a ledger out."""
    if as_ is not None:
        if not as_.strip() or as_.strip() != as_:
            raise CliError(f"--as {as_!r}: give a principal such as user:alice")
        ACTING_AS.set(as_)


app.command("publish")(publish)
app.command("migrate")(migrate)
app.command("simulate")(simulate)
app.command("dashboard")(reports.dashboard)


@app.command()
def up(
    data_dir: Annotated[Path, typer.Option(envvar="REASONOPS_DATA_DIR",
                                           help="Where NATS and the services keep data.")]
    = Path(".reasonops"),
    port_base: Annotated[int, typer.Option(help="HTTP port of the first service; the others "
                                           "follow (ingest, incidents, slm, ...).")] = 8081,
    gateway_port: Annotated[int, typer.Option(help="The gateway's port (REST API, MCP).")]
    = 8080,
    nats_port: Annotated[int, typer.Option(help="Embedded nats-server client port.")] = 4222,
    nats_monitor_port: Annotated[int, typer.Option(help="Embedded nats-server monitor port.")]
    = 8222,
    service: Annotated[list[str] | None, typer.Option(
        "--service", help="Start only these services; repeatable.")] = None,
    json: Annotated[bool, typer.Option("--json", help="When ready, print one JSON line "
                                       "describing what runs where.")] = False,
    auth: Annotated[bool, typer.Option(
        "--auth/--no-auth", envvar="REASONOPS_NATS_AUTH",
        help="Give every service its own NATS identity with only its own permissions, and "
             "the CLI the operator's (credentials in DATA_DIR/credentials). --no-auth runs "
             "an open server, for measuring what authentication costs.")] = True,
    broker_memory: Annotated[str, typer.Option(
        envvar="REASONOPS_BROKER_MEMORY",
        help="Soft memory limit of the embedded nats-server (Go's GOMEMLIMIT): near it the "
             "server collects garbage sooner instead of letting its heap double; above it "
             "it keeps working. 'off' for none; an exported GOMEMLIMIT wins.")]
    = MEMORY_LIMIT,
) -> None:
    """Start everything: an embedded nats-server (unless NATS_URL is set) and every service."""
    try:
        memory = memory_limit(broker_memory)
    except ValueError as exc:
        raise CliError(f"--broker-memory: {exc}") from None
    names = list(installed_services())
    wanted = service or names
    unknown = sorted(set(wanted) - set(names))
    if unknown:
        raise CliError(f"unknown service(s) {', '.join(unknown)}; installed: {', '.join(names)}")
    shared = os.environ.get("REASONOPS_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if shared and SERVICE_PLACEHOLDER not in shared and len(wanted) > 1:
        raise CliError(f"DATABASE_URL would put {len(wanted)} services in one database, "
                       "where each would relay the others' outbox: put {service} in it "
                       "(postgresql+asyncpg://user@host/reasonops_{service}) for a database "
                       "each, created on first start")
    engine = [n for n in names if n != "gateway"]
    ports = {name: gateway_port if name == "gateway" else port_base + engine.index(name)
             for name in names if name in wanted}
    external = os.environ.get("REASONOPS_NATS_URL") or os.environ.get("NATS_URL")
    # An external server has its own users (deploy/nats); the keys here are for ours.
    supervisor = Supervisor(data_dir=data_dir, nats_url=external,
                            nats_port=nats_port, nats_monitor_port=nats_monitor_port, ports=ports,
                            auth=auth and not external, broker_memory=memory)
    run_up(supervisor, ports.get("ingest", port_base), json_out=json)


@app.command()
def run(
    name: Annotated[str, typer.Argument(help="Service to run, e.g. incidents.")],
    json: Annotated[bool | None, typer.Option(
        "--json/--text", help="Log JSON lines, or text for a person; default: JSON unless "
        "stderr is a terminal.")] = None,
) -> None:
    """Run one service in the foreground (how a container runs it)."""
    run_service(name, json_logs=not sys.stderr.isatty() if json is None else json)


@app.command()
def mcp(
    url: Annotated[str | None, typer.Option(
        envvar="REASONOPS_URL", help="The gateway, e.g. http://127.0.0.1:8080 (default).")]
    = None,
    token: Annotated[str | None, typer.Option(
        envvar="REASONOPS_TOKEN", show_default=False,
        help="An API token (reasonops tokens create); the tools act as its person.")] = None,
) -> None:
    """Serve ReasonOps to an MCP client (a desktop assistant) over stdio: the tools call
    the REST API with the token, so they may do exactly what its person may."""
    import asyncio

    from reasonops_mcp import build_server
    from reasonops_sdk import AsyncReasonOpsClient

    if not token:
        raise CliError("--token: give an API token (or set REASONOPS_TOKEN); create one with "
                       "`reasonops tokens create --name assistant`")
    server = build_server(lambda: AsyncReasonOpsClient(url, token))
    asyncio.run(server.run_stdio_async(show_banner=False, log_level="WARNING"))


def main() -> None:
    try:
        app()
    except CliError as exc:
        fail(str(exc))
    except ValidationError as exc:  # a request model refused what was typed
        fail("; ".join(f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}"
                       for e in exc.errors()), code=2)
