"""``reasonops agents decisions|health|providers|configure|eval``."""

from __future__ import annotations

import asyncio
import json as jsonlib
import os
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated, Any

import typer
from nats.aio.client import Client
from nats.js.api import DeliverPolicy

from reasonops_contracts import Envelope, streams, subjects
from reasonops_contracts.agents import (
    AGENT_NAMES,
    AgentDecisionRecorded,
    AgentStatus,
    AgentStatusQuery,
)

from .connection import CliError, with_nats
from .output import emit_json, table, when

app = typer.Typer(help="AI agents: their decisions, providers and health; configure and "
                  "evaluate them.", no_args_is_help=True)

Json = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
Agent = Annotated[str | None, typer.Option("--agent", help="triage, rca, security or capacity.")]


def _check_agent(agent: str | None) -> None:
    if agent is not None and agent not in AGENT_NAMES:
        raise CliError(f"--agent: unknown agent {agent!r}; known: {', '.join(AGENT_NAMES)}")


async def _decisions(nc: Client, limit: int) -> list[AgentDecisionRecorded]:
    """Every decision in the AGENTS stream, oldest first (an ordered, ephemeral read)."""
    js = nc.jetstream()
    found: list[AgentDecisionRecorded] = []
    try:
        sub = await js.subscribe(subjects.AGENT_DECISION, stream=streams.AGENTS.name,
                                 ordered_consumer=True, deliver_policy=DeliverPolicy.ALL)
    except Exception as exc:
        raise CliError(f"cannot read the AGENTS stream ({exc.__class__.__name__}); "
                       "has ReasonOps been started?") from None
    try:
        while True:
            try:
                msg = await sub.next_msg(timeout=1.0)
            except TimeoutError:
                break
            found.append(Envelope.from_bytes(msg.data).decode(AgentDecisionRecorded))
            if msg.metadata.num_pending == 0:
                break
    finally:
        await sub.unsubscribe()
    return found[-limit:] if limit else found


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
    found = [d for d in with_nats(lambda nc: _decisions(nc, 0))
             if (incident is None or d.incident_id == incident)
             and (agent is None or d.agent == agent)][-limit:]
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


async def _gather(nc: Client, probe: bool, wait: float) -> list[AgentStatus]:
    inbox = nc.new_inbox()
    replies: list[AgentStatus] = []
    sub = await nc.subscribe(inbox)
    await nc.publish(subjects.AGENT_QUERY_STATUS,
                     AgentStatusQuery(probe=probe).model_dump_json().encode(), reply=inbox)
    deadline = asyncio.get_running_loop().time() + wait
    while (left := deadline - asyncio.get_running_loop().time()) > 0:
        try:
            msg = await sub.next_msg(timeout=left)
        except TimeoutError:
            break
        replies.append(AgentStatus.model_validate_json(msg.data))
    await sub.unsubscribe()
    return sorted(replies, key=lambda s: (AGENT_NAMES.index(s.agent), s.instance))


def _statuses(probe: bool, wait: float) -> list[AgentStatus]:
    found = with_nats(lambda nc: _gather(nc, probe, wait))
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
