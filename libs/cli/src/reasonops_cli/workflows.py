"""``reasonops workflows list | show | instances | review | approve | reject``."""

from __future__ import annotations

import json as jsonlib
import re
from typing import Annotated

import typer

from reasonops_contracts.reviews import GetPostIncidentReview, PostIncidentReviewView
from reasonops_contracts.workflows import (
    ApproveStep,
    GetWorkflow,
    ListWorkflowDefinitions,
    ListWorkflowInstances,
    RejectStep,
    WorkflowDefinitionList,
    WorkflowInstanceList,
    WorkflowState,
    WorkflowView,
)

from .connection import ask, principal
from .output import duration, emit_json, table, when

app = typer.Typer(help="Workflows the orchestrator runs: definitions, instances, approvals, "
                       "post-incident reviews.",
                  no_args_is_help=True)

Json = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
INCIDENT = re.compile(r"^INC\d{7,}$")


@app.command("list")
def list_(json: Json = False) -> None:
    """The workflow definitions loaded (newest version of each) and what starts them."""
    found = ask(ListWorkflowDefinitions(), WorkflowDefinitionList)
    if json:
        emit_json(found)
        return
    typer.echo(table(["WORKFLOW", "VERSION", "TRIGGERS", "STEPS", "SOURCE"],
                     [[d.name, d.version, ", ".join(d.triggers),
                       " ".join(s.id for s in d.steps), d.source] for d in found.items]))


@app.command()
def show(
    target: Annotated[str, typer.Argument(
        help="Incident number (INC0000001) or instance id (MI-INC0000001).")],
    workflow: Annotated[str, typer.Option(
        help="Which workflow of the incident.")] = "incident-response",
    json: Json = False,
) -> None:
    """Show one instance: its steps, their state and what each decided."""
    query = (GetWorkflow(incident_id=target, workflow=workflow) if INCIDENT.match(target)
             else GetWorkflow(workflow_id=target))
    view = ask(query, WorkflowView)
    if json:
        emit_json(view)
        return
    _print(view)


def _print(view: WorkflowView) -> None:
    typer.echo(f"{view.workflow_id}  {view.workflow} v{view.version}  {view.state}  "
               f"started {when(view.started_at)}" + (f"  ({view.outcome})" if view.outcome
                                                      else ""))
    typer.echo(table(["STEP", "KIND", "STATE", "ATTEMPT", "COMPLETED (UTC)", "RESULT"],
                     [[s.step, s.kind, s.state, s.attempt, when(s.completed_at),
                       s.error or (jsonlib.dumps(s.result)[:90] if s.result else "-")]
                      for s in view.steps]))


@app.command()
def instances(
    workflow: Annotated[str | None, typer.Option(help="Only this workflow.")] = None,
    state: Annotated[str | None, typer.Option(
        help="queued, running, compensating, completed or failed.")] = None,
    incident: Annotated[str | None, typer.Option(help="Only this incident's.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
    json: Json = False,
) -> None:
    """Workflow instances, newest first."""
    found = ask(ListWorkflowInstances(workflow=workflow, state=_state(state),
                                      incident_id=incident, limit=limit), WorkflowInstanceList)
    if json:
        emit_json(found)
        return
    typer.echo(table(["INSTANCE", "WORKFLOW", "VERSION", "STATE", "STARTED (UTC)", "WAITING ON"],
                     [[v.workflow_id, v.workflow, v.version, v.state, when(v.started_at),
                       " ".join(s.step for s in v.steps if s.state == "waiting") or "-"]
                      for v in found.items]))


@app.command()
def review(
    target: Annotated[str, typer.Argument(
        help="Incident number (INC0000001: its newest review) or instance id "
             "(MI-INC0000001).")],
    json: Json = False,
) -> None:
    """The post-incident review a major incident's workflow recorded when it resolved:
    timeline, the agents' decisions, how the SLA clocks ended, what it cost."""
    query = (GetPostIncidentReview(incident_id=target) if INCIDENT.match(target)
             else GetPostIncidentReview(workflow_id=target))
    found = ask(query, PostIncidentReviewView)
    if json:
        emit_json(found)
        return
    typer.echo(f"Post-incident review of {found.incident_id or '-'} ({found.workflow_id}), "
               f"recorded {when(found.recorded_at)}")
    if found.title:
        typer.echo(found.title)
    typer.echo("\nSLA clocks:")
    typer.echo(table(["CLOCK", "AGREEMENT", "STATE", "ELAPSED", "TARGET"],
                     [[c.kind or "-", c.agreement or "-", c.state or "-", _seconds(
                         c.elapsed_seconds), _seconds(c.target_seconds)] for c in found.sla])
               if found.sla else "none")
    typer.echo("\nCost: " + (", ".join(f"{amount} {currency}" for currency, amount
                                       in sorted(found.cost.items())) or "none known"))
    if found.cost_detail:
        typer.echo(f"  {found.cost_detail}")
    typer.echo("\nDecisions:")
    for step, output in found.decisions.items() or [("-", "none")]:
        said = output.get("summary") if isinstance(output, dict) else None
        typer.echo(f"  {step}: {said or jsonlib.dumps(output)[:200]}")
    typer.echo("\nTimeline:")
    typer.echo(table(["AT (UTC)", "ACTOR", "KIND", "DETAIL"],
                     [[when(t.at), t.actor, t.kind, t.detail[:80]] for t in found.timeline]))
    if found.missing:
        typer.echo("\nNot read when the review ran: " + "; ".join(found.missing))


def _seconds(value: float | None) -> str:
    return "-" if value is None else duration(value)


def _state(value: str | None) -> WorkflowState | None:
    allowed = ("queued", "running", "compensating", "completed", "failed")
    if value is not None and value not in allowed:
        raise typer.BadParameter(f"one of {', '.join(allowed)}", param_hint="--state")
    return value  # type: ignore[return-value]


Instance = Annotated[str, typer.Argument(help="Instance id, e.g. SEC-INC0000001.")]
Step = Annotated[str, typer.Argument(help="The approval step, e.g. approve.")]
Note = Annotated[str | None, typer.Option(help="Why; kept with the decision.")]
Actor = Annotated[str, typer.Option(
    help="Who decides (checked against the role policy); default: --as, else you.")]


@app.command()
def approve(instance: Instance, step: Step, note: Note = None, actor: Actor = "",
            json: Json = False) -> None:
    """Grant a waiting approval step."""
    view = ask(ApproveStep(workflow_id=instance, step=step, actor=principal(actor), note=note),
               WorkflowView)
    emit_json(view) if json else _print(view)


@app.command()
def reject(instance: Instance, step: Step, note: Note = None, actor: Actor = "",
           json: Json = False) -> None:
    """Refuse a waiting approval step."""
    view = ask(RejectStep(workflow_id=instance, step=step, actor=principal(actor), note=note),
               WorkflowView)
    emit_json(view) if json else _print(view)
