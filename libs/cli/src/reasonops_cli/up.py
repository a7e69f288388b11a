"""``reasonops up``: the embedded nats-server and every service as its own process, with
what to do next printed."""

from __future__ import annotations

import json
import signal
import sys

import typer

from .supervisor import Supervisor


def run_up(supervisor: Supervisor, ingest_port: int, *, json_out: bool = False) -> None:
    def on_signal(signum: int, _frame: object) -> None:
        supervisor.stop_requested = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        supervisor.start()
    except (RuntimeError, TimeoutError, FileNotFoundError, KeyboardInterrupt) as exc:
        supervisor.stop()
        if isinstance(exc, KeyboardInterrupt):
            raise typer.Exit(130) from None
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from None
    if json_out:
        typer.echo(json.dumps({"status": "up", **supervisor.describe()}))
    else:
        _print_banner(supervisor, ingest_port)
    sys.stdout.flush()
    try:
        supervisor.watch()
    finally:
        if not json_out:
            typer.echo("Stopping ReasonOps...")
        supervisor.stop()
        typer.echo(json.dumps({"status": "stopped"}) if json_out else "Stopped.")


def _print_banner(supervisor: Supervisor, ingest_port: int) -> None:
    typer.echo(f"ReasonOps is up. Data: {supervisor.data_dir}  Logs: {supervisor.logs}\n")
    typer.echo(supervisor.summary())
    key_file = supervisor.ingest_key_file
    key = key_file.read_text().strip() if key_file.exists() else "KEY"
    typer.echo(f"\nSend an alert (integration 'default', key in {key_file}):\n"
               f"  curl -XPOST localhost:{ingest_port}/v1/alertmanager "
               f"-H 'authorization: Bearer {key}' "
               "-H 'content-type: application/json' -d @examples/payloads/alertmanager-firing.json"
               f"\nThen: reasonops incidents list   (NATS_URL={supervisor.nats_url})"
               + _api_hint(supervisor) +
               "\nStop with Ctrl-C.")


def _api_hint(supervisor: Supervisor) -> str:
    gateway = next((c for c in supervisor.children if c.name == "gateway"), None)
    if gateway is None:
        return ""
    return (f"\nConsole:  {gateway.url}/   (log in with the token in "
            f"{supervisor.api_token_file})"
            f"\nREST API: {gateway.url}/docs   (token: export REASONOPS_TOKEN=$(cat "
            f"{supervisor.api_token_file}))")
