"""``reasonops agents decisions|health|providers|configure|eval``."""

from __future__ import annotations

import asyncio
import json as jsonlib
import os
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated, Any

import typer

from reasonops_client.agents import AgentsUnavailable, gather_statuses, read_decisions
from reasonops_contracts.agents import AGENT_NAMES, AgentStatus

from .connection import CliError, with_nats
from .output import emit_json, table, when

app = typer.Typer(help="AI agents: their decisions, providers and health; configure and "
                  "evaluate them.", no_args_is_help=True)

Json = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
Agent = Annotated[str | None, typer.Option("--agent", help="triage, rca, security or capacity.")]


def _check_agent(agent: str | None) -> None:
    if agent is not None and agent not in AGENT_NAMES:
        raise CliError(f"--agent: unknown agent {agent!r}; known: {', '.join(AGENT_NAMES)}")


@app.command()
def decisions(
    incident: Annotated[str | None, typer.Option("--incident", help="Only this incident.")]
    = None,
    agent: Agent = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest last.")] = 50,
    json: Json = False,
) -> None:
    """Decisions agents recorded: who decided (provider, model), fallback, summary."""
    _check_agent(agent)
    try:
        found = with_nats(lambda nc: read_decisions(nc, limit=limit, incident_id=incident,
                                                    agent=agent))
    except AgentsUnavailable as exc:
        raise CliError(str(exc)) from None
    if json:
        emit_json([d.model_dump(mode="json") for d in found])
        return
    if not found:
        typer.echo("No decisions.")
        return
    typer.echo(table(
        ["DECIDED (UTC)", "AGENT", "INCIDENT", "PROVIDER", "MODEL", "FALLBACK", "MS",
         "SUMMARY"],
        [[when(d.decided_at), d.agent, d.incident_id or "-", d.provider, d.model,
          "yes" if d.fallback else "no", f"{d.latency_ms:.0f}", (d.summary or "")[:90]]
         for d in found]))


def _statuses(probe: bool, wait: float) -> list[AgentStatus]:
    found = with_nats(lambda nc: gather_statuses(nc, probe=probe, wait=wait))
    if not found:
        raise CliError("no agent answered; are the agent services running?")
    return found


Wait = Annotated[float, typer.Option(help="Seconds to collect answers from agents.")]


@app.command()
def health(wait: Wait = 3.0, json: Json = False) -> None:
    """Probe every provider of every running agent (rules is always healthy)."""
    found = _statuses(True, wait)
    if json:
        emit_json([s.model_dump(mode="json") for s in found])
        return
    rows = [[s.agent, s.instance, p.provider, p.model, "yes" if p.external else "no",
             p.circuit, "ok" if p.healthy else "DOWN", p.detail[:60], s.pending]
            for s in found for p in s.providers]
    typer.echo(table(["AGENT", "INSTANCE", "PROVIDER", "MODEL", "EXTERNAL", "CIRCUIT",
                      "HEALTH", "DETAIL", "QUEUED"], rows))
    if any(p.healthy is False for s in found for p in s.providers):
        raise typer.Exit(1)


@app.command()
def providers(wait: Wait = 2.0, json: Json = False) -> None:
    """The provider chain each running agent uses, and its prompt version."""
    found = _statuses(False, wait)
    if json:
        emit_json([s.model_dump(mode="json") for s in found])
        return
    typer.echo(table(["AGENT", "INSTANCE", "CHAIN", "PROMPT", "CIRCUITS"],
                     [[s.agent, s.instance, s.chain, s.prompt_version,
                       ", ".join(f"{p.provider}={p.circuit}" for p in s.providers)]
                      for s in found]))


@app.command()
def configure(
    agent: Annotated[str, typer.Option("--agent", help="triage, rca, security or capacity.")],
    chain: Annotated[str, typer.Option("--chain", help="e.g. 'ollama:llama3.1 -> "
                                       "openai:gpt-4o-mini -> rules'.")],
    data_dir: Annotated[Path, typer.Option(envvar="REASONOPS_DATA_DIR",
                                           help="Where the agents read agents.yaml.")]
    = Path(".reasonops"),
    file: Annotated[Path | None, typer.Option("--file", envvar="REASONOPS_AGENTS_CONFIG",
                                              help="Settings file (default DATA_DIR/"
                                              "agents.yaml).")] = None,
) -> None:
    """Write an agent's provider chain to its settings file; restart the agent to apply.
    A chain set in the environment (REASONOPS_<AGENT>_CHAIN) still takes precedence."""
    from reasonops_llm.config import ChainError, agents_config_path, write_chain

    _check_agent(agent)
    path = agents_config_path(data_dir, file)
    try:
        write_chain(path, agent, chain)
    except ChainError as exc:
        raise CliError(f"--chain: {exc}") from None
    typer.echo(f"{agent}: chain '{chain}' written to {path}; restart agent-{agent} to apply.")
    overriding = os.environ.get(f"REASONOPS_{agent.upper()}_CHAIN")
    if overriding:
        typer.echo(f"note: REASONOPS_{agent.upper()}_CHAIN={overriding} is set and wins.")


@app.command("eval")
def eval_(
    cases: Annotated[Path, typer.Argument(help="JSONL file, one labelled case a line.",
                                          exists=True, dir_okay=False)],
    agent: Annotated[str, typer.Option("--agent", help="The agent to evaluate.")] = "triage",
    chain: Annotated[str, typer.Option(help="Provider chain to evaluate.")] = "rules",
    misses: Annotated[bool, typer.Option("--misses", help="List the wrong categories.")]
    = False,
    json: Json = False,
) -> None:
    """Run an agent over labelled cases: accuracy per field, confusion matrix for
    category, latency and cost per provider."""
    from reasonops_llm.config import ChainError

    found = {ep.name: ep for ep in entry_points(group="reasonops.agent_evals")}
    if agent not in found:
        raise CliError(f"--agent: no evaluation for {agent!r}; available: "
                       f"{', '.join(sorted(found)) or 'none'}")
    module: Any = found[agent].load()
    try:
        report = asyncio.run(module.run(cases, chain=chain))
    except (module.CaseError, ChainError) as exc:
        raise CliError(str(exc)) from None
    if json:
        typer.echo(jsonlib.dumps(report.as_dict(), indent=2, default=str))
        return
    typer.echo(module.render(report))
    if misses and report.misses:
        typer.echo("\nmisses:\n" + "\n".join(f"  {m}" for m in report.misses))
