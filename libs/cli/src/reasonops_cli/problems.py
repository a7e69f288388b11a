"""``reasonops problems list|show|investigate|known-error|resolve|reopen``."""

from __future__ import annotations

from typing import Annotated

import typer

from reasonops_contracts.incidents import (
    GetProblem,
    ListProblems,
    ProblemList,
    ProblemState,
    ProblemView,
    UpdateProblem,
)

from .connection import ask
from .incidents import Actor, Json, Note, _actor_default
from .output import emit_json, table, when

app = typer.Typer(help="Problems: recurring incidents of one correlation group, and their "
                       "root cause work.", no_args_is_help=True)
ProblemId = Annotated[str, typer.Argument(help="Problem number, e.g. PRB0000001.")]


@app.command("list")
def list_(
    state: Annotated[list[str] | None, typer.Option("--state", help="Filter; repeatable.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 50,
    json: Json = False,
) -> None:
    """List problems, newest first."""
    states: list[ProblemState] | None = state  # type: ignore[assignment]
    found = ask(ListProblems(states=states, limit=limit), ProblemList)
    if json:
        emit_json(found)
        return
    if not found.items:
        typer.echo("No problems.")
        return
    typer.echo(table(["PROBLEM", "STATE", "SERVICE", "INCIDENTS", "OPENED (UTC)", "TITLE"],
                     [[p.problem_id, p.state, p.service or "-", len(p.incident_ids),
                       when(p.opened_at), p.title[:60]] for p in found.items]))


@app.command()
def show(problem_id: ProblemId, json: Json = False) -> None:
    """Show a problem, its incidents and its history."""
    view = ask(GetProblem(problem_id=problem_id), ProblemView)
    if json:
        emit_json(view)
        return
    for key, value in (("Problem", view.problem_id), ("Title", view.title),
                       ("State", view.state), ("Service", view.service or "-"),
                       ("Group", view.group_key), ("Workaround", view.workaround or "-"),
                       ("Incidents", ", ".join(view.incident_ids) or "-"),
                       ("Opened", when(view.opened_at)), ("Resolved", when(view.resolved_at))):
        typer.echo(f"{key:<10}  {value}")
    typer.echo("\nHistory")
    typer.echo(table(["TIME (UTC)", "ACTOR", "DETAIL"],
                     [[when(h.at), h.actor, h.detail] for h in view.history]))


def _move(state: ProblemState, doc: str, *, needs_workaround: bool = False):  # type: ignore[no-untyped-def]
    def run(problem_id: ProblemId, note: Note = None, actor: Actor = "",
            workaround: Annotated[str | None, typer.Option(
                help="The workaround (required for known-error).")] = None,
            json: Json = False) -> None:
        view = ask(UpdateProblem(problem_id=problem_id, state=state, workaround=workaround,
                                 note=note, actor=actor or _actor_default()), ProblemView)
        if json:
            emit_json(view)
        else:
            typer.echo(f"{view.problem_id} is now {view.state}.")
    run.__doc__ = doc
    return run


app.command("investigate")(_move("investigating", "Start investigating a problem."))
app.command("known-error")(_move(
    "known_error", "Record a known error with its workaround (--workaround)."))
app.command("resolve")(_move("resolved", "Resolve a problem: the root cause is fixed."))
app.command("reopen")(_move("investigating", "Reopen a resolved problem."))
