"""``reasonops policy show|check``: read a role policy and ask it questions, offline."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from reasonops_runtime import policy_file
from reasonops_runtime.policy import Policy
from reasonops_runtime.policy_file import PolicyError

from .connection import CliError
from .output import emit_json, table

app = typer.Typer(help="Roles and policy: who may run which command, where.",
                  no_args_is_help=True)

File = Annotated[Path | None, typer.Option(
    "--file", help="Policy file; default: REASONOPS_POLICY, else the built-in policy.")]
Json = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def _load(path: Path | None) -> Policy:
    path = path or (Path(os.environ["REASONOPS_POLICY"])
                    if os.environ.get("REASONOPS_POLICY", "").strip() else None)
    try:
        return policy_file.configured(path)
    except PolicyError as exc:
        raise CliError(str(exc)) from None


@app.command()
def show(file: File = None, json: Json = False) -> None:
    """The roles (their actions and approval) and who holds them."""
    policy = _load(file)
    if json:
        emit_json({"source": policy.source,
                   "roles": {r.name: {"description": r.description, "scope": r.scope.label(),
                                      "allow": [{"actions": list(rule.actions),
                                                 "approval": rule.approval}
                                                for rule in r.rules]}
                             for r in policy.roles.values()},
                   "principals": {k: list(v) for k, v in policy.bindings().items()}})
        return
    typer.echo(f"Policy: {policy.source}")
    typer.echo(table(["ROLE", "ALLOWS", "SCOPE", "DESCRIPTION"],
                     [[r.name, ", ".join(", ".join(rule.actions)
                                         + (" (approval)" if rule.approval == "required" else "")
                                         for rule in r.rules) or "(nothing)",
                       r.scope.label() or "-", r.description]
                      for r in policy.roles.values()]))
    typer.echo("")
    typer.echo(table(["PRINCIPAL", "ROLES"],
                     [[key, ", ".join(labels)] for key, labels in policy.bindings().items()]))


@app.command()
def check(
    principal: Annotated[str, typer.Argument(help="user:alice, agent:triage, service:x, cli.")],
    action: Annotated[str, typer.Argument(help="e.g. incident.resolve, proposal.block_source.")],
    team: Annotated[str | None, typer.Option(help="The team that owns the target.")] = None,
    service: Annotated[str | None, typer.Option(help="The service the target is.")] = None,
    file: File = None,
    json: Json = False,
) -> None:
    """Would PRINCIPAL be allowed ACTION? Exit 0 if allowed (perhaps with approval), 1 if not."""
    verdict = _load(file).check(principal, action, team=team, service=service)
    if json:
        emit_json({"allowed": verdict.allowed, "principal": verdict.principal,
                   "action": verdict.action, "roles": list(verdict.roles),
                   "reason": verdict.reason, "requires_approval": verdict.requires_approval})
    else:
        outcome = ("allowed with approval" if verdict.requires_approval else "allowed") \
            if verdict.allowed else "denied"
        typer.echo(f"{outcome}: {verdict.reason}")
    if not verdict.allowed:
        raise typer.Exit(1)
