"""``reasonops scenario list|run``: replay a realistic incident against the running stack
and print what ReasonOps did and when, ending with the SLA and cost outcome."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import httpx
import typer

from reasonops_contracts import ReplyError
from reasonops_contracts.incidents import GetIncident, IncidentView
from reasonops_runtime.client import request

from .connection import CliError, nats_url, open_connection
from .output import emit_json, table
from .scenario_observe import outcomes, trail
from .scenario_report import Report, key_steps, render, timeline
from .scenario_runner import Run, Runner, Target
from .scenario_script import ScriptError, builtin, find, parse_script

app = typer.Typer(help="Scenarios: replay a realistic incident against the running "
                       "ReasonOps and report what it did.", no_args_is_help=True)

Json = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


@app.command("list")
def list_(json: Json = False) -> None:
    """The built-in scenarios."""
    scripts = [parse_script(text, f"{name}.yaml") for name, text in builtin().items()]
    if json:
        emit_json([{"name": s.name, "title": s.title, "services": s.services,
                    "steps": len(s.steps)} for s in scripts])
        return
    typer.echo(table(["SCENARIO", "SERVICES", "STEPS", "TITLE"],
                     [[s.name, ",".join(s.services), len(s.steps), s.title] for s in scripts]))


@app.command()
def run(
    name: Annotated[str, typer.Argument(help="A built-in scenario (see `scenario list`) or a "
                                        "script file.")],
    speed: Annotated[float, typer.Option(help="Play the script's delays N times faster.",
                                         min=0.1, max=1000)] = 1.0,
    ingest_url: Annotated[str, typer.Option(envvar="REASONOPS_INGEST_URL",
                                            help="Where ingest listens.")]
    = "http://127.0.0.1:8081",
    data_dir: Annotated[Path, typer.Option(envvar="REASONOPS_DATA_DIR",
                                           help="Data dir of `reasonops up`, for the key of "
                                           "the default integration.")] = Path(".reasonops"),
    key: Annotated[str | None, typer.Option(envvar="REASONOPS_INGEST_KEY",
                                            help="Integration key (default: the one `up` "
                                            "keeps in DATA_DIR/ingest-default.key).")] = None,
    json: Json = False,
) -> None:
    """Run a scenario end to end and print its timeline report."""
    try:
        script = find(name)
    except ScriptError as exc:
        raise CliError(str(exc)) from None
    target = Target(ingest_url.rstrip("/"), key or _default_key(data_dir), nats_url(),
                    data_dir)
    progress = None if json else (lambda line: typer.echo(line, err=True))
    report = asyncio.run(_play(Run(script, target, speed=speed, progress=progress)))
    if json:
        emit_json(report.to_json())
    else:
        typer.echo(render(report))


def _default_key(data_dir: Path) -> str:
    path = data_dir / "ingest-default.key"
    try:
        return path.read_text().strip()
    except OSError:
        raise CliError(f"no integration key at {path}: start ReasonOps with `reasonops up` "
                       "(it creates the key), or give --data-dir or --key") from None


async def _play(run: Run) -> Report:
    try:
        nc = await open_connection(run.target.nats_url, name="reasonops-scenario",
                                   data_dir=run.target.data_dir)
    except CliError:
        raise
    except Exception as exc:
        raise CliError(f"cannot reach NATS at {run.target.nats_url} "
                       f"({exc.__class__.__name__}); start ReasonOps with `reasonops up` or "
                       "set NATS_URL") from None
    try:
        async with httpx.AsyncClient(base_url=run.target.ingest_url, timeout=10) as http:
            runner = Runner(run, nc, http)
            try:
                await runner.play()
                return await _report(runner)
            except httpx.TransportError as exc:
                raise CliError(f"cannot reach ingest at {run.target.ingest_url} "
                               f"({exc.__class__.__name__}); give --ingest-url") from None
            except ReplyError as exc:
                raise CliError(f"{exc.detail.code}: {exc.detail.message}") from None
    finally:
        await nc.close()


async def _report(runner: Runner) -> Report:
    run = runner.run
    incidents = [await request(runner.nc, GetIncident(incident_id=i.incident_id), IncidentView)
                 for i in await runner.scenario_incidents()]
    ids = [i.incident_id for i in incidents]
    entries = [*run.entries, *await trail(runner.nc, ids, run.started_at, run.notes)]
    clocks, costs = await outcomes(runner.nc, ids)
    return Report(
        scenario=run.script.name, title=run.script.title, started_at=run.started_at,
        incidents=[{"incident_id": i.incident_id, "title": i.title, "priority": i.priority,
                    "major": i.major, "state": i.state, "service": i.service,
                    "alert_count": i.alert_count,
                    "names": sorted(n for n, v in run.incidents.items()
                                    if v == i.incident_id)} for i in incidents],
        timeline=timeline(entries, run.started_at),
        key_steps=key_steps(run.script.expect, entries, run.started_at),
        sla=clocks, cost=costs, notes=run.notes)


