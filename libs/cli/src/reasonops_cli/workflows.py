"""``reasonops workflows show``."""

from __future__ import annotations

import json as jsonlib
from typing import Annotated

import typer

from reasonops_contracts.workflows import GetWorkflow, WorkflowView

from .connection import ask
from .output import emit_json, table, when

app = typer.Typer(help="Workflows the orchestrator runs for incidents.", no_args_is_help=True)


@app.command()
def show(
    incident_id: Annotated[str, typer.Argument(help="Incident number, e.g. INC0000001.")],
    json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """Show the workflow of an incident: its steps and what each decided."""
    view = ask(GetWorkflow(incident_id=incident_id), WorkflowView)
    if json:
        emit_json(view)
        return
    typer.echo(f"{view.workflow_id}  {view.workflow} v{view.version}  {view.state}  "
               f"started {when(view.started_at)}")
    typer.echo(table(["STEP", "STATE", "COMPLETED (UTC)", "RESULT"],
                     [[s.step, s.state, when(s.completed_at),
                       jsonlib.dumps(s.result)[:100] if s.result else "-"] for s in view.steps]))
