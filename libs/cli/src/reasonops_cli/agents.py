"""``reasonops agents decisions|health|providers|configure|eval``."""

from __future__ import annotations

import asyncio
import json as jsonlib
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated, Any

import typer

from reasonops_client.agent_config import ConfigUnavailable, write_config
from reasonops_client.agents import (
    AgentsUnavailable,
    gather_statuses,
    read_briefing,
    read_decisions,
)
from reasonops_contracts.agents import AGENT_NAMES, DECIDERS, AgentConfig, AgentStatus
from reasonops_contracts.briefings import BriefingOutput
from reasonops_contracts.incidents import GetIncident, IncidentView

from .connection import CliError, ask, who_am_i, with_nats
from .output import emit_json, table, when

app = typer.Typer(help="AI agents: their decisions, providers and health; configure and "
                  "evaluate them.", no_args_is_help=True)

Json = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
Agent = Annotated[str | None, typer.Option("--agent", help=(
    "triage, rca, security, capacity, slm or briefing."))]


def _check_agent(agent: str | None, known: tuple[str, ...] = AGENT_NAMES) -> None:
    if agent is not None and agent not in known:
        raise CliError(f"--agent: unknown agent {agent!r}; known: {', '.join(known)}")


@app.command()
def decisions(
    incident: Annotated[str | None, typer.Option("--incident", help="Only this incident.")]
    = None,
    agent: Agent = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest last.")] = 50,
    json: Json = False,
) -> None:
    """Decisions agents recorded: who decided (provider, model), fallback, summary. With
    --incident, the incident is asked for first (who may not read it is refused) and
    only the decisions stored since it opened are read."""
    _check_agent(agent, DECIDERS)
    opened_at = None
    if incident is not None:
        opened_at = ask(GetIncident(incident_id=incident), IncidentView).opened_at
    try:
        found = with_nats(lambda nc: read_decisions(nc, limit=limit, incident_id=incident,
                                                    agent=agent, opened_at=opened_at))
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


@app.command()
def briefing(
    incident_id: Annotated[str, typer.Argument(help="The incident, e.g. INC0000001.")],
    json: Json = False,
) -> None:
    """The agents' views of an incident in one briefing: the summary, concerns and next
    steps, then each view with its evidence and the decision it comes from (made by the
    root-cause agent once two agents have decided about the incident)."""
    opened = ask(GetIncident(incident_id=incident_id), IncidentView).opened_at
    try:
        decision = with_nats(lambda nc: read_briefing(nc, incident_id, opened))
    except AgentsUnavailable as exc:
        raise CliError(str(exc)) from None
    if decision is None:
        raise CliError(f"{incident_id}: no briefing yet (one is made once two agents "
                       "have decided about the incident)")
    if json:
        emit_json(decision.model_dump(mode="json"))
        return
    out = decision.output
    assert isinstance(out, BriefingOutput)
    typer.echo(f"{out.summary}\n(briefed {when(decision.decided_at)} by "
               f"{decision.provider}; decision {decision.decision_id})")
    if out.suggested_priority is not None:
        typer.echo(f"Suggested priority: P{out.suggested_priority}")
    for title, lines in (("Concerns", out.concerns), ("Next steps", out.next_steps)):
        if lines:
            typer.echo(f"\n{title}:\n" + "\n".join(f"  - {line}" for line in lines))
    for view in out.views:
        typer.echo(f"\n{view.agent} ({view.provider}, decision {view.decision_id}): "
                   f"{view.summary}\n" + "\n".join(f"  - {e}" for e in view.evidence))
    if out.missing:
        typer.echo(f"\nNo view yet from: {', '.join(out.missing)}")


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
             p.circuit, "ok" if p.healthy else "DOWN", p.detail[:60], s.pending, s.given_up]
            for s in found for p in s.providers]
    typer.echo(table(["AGENT", "INSTANCE", "PROVIDER", "MODEL", "EXTERNAL", "CIRCUIT",
                      "HEALTH", "DETAIL", "QUEUED", "GIVEN UP"], rows))
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
    agent: Annotated[str, typer.Option("--agent", help=(
        "triage, rca, security, capacity or slm."))],
    chain: Annotated[str, typer.Option("--chain", help="e.g. 'ollama:llama3.1 -> "
                                       "openai:gpt-4o-mini -> rules'.")],
    temperature: Annotated[float, typer.Option(min=0.0, max=2.0, help="Sampling "
                                               "temperature of the providers.")] = 0.0,
) -> None:
    """Set an agent's provider chain in the agents' bucket: every running replica applies
    it at once, without a restart (the API's configure-llm writes the same bucket). It
    outranks REASONOPS_<AGENT>_CHAIN and agents.yaml, which apply when nothing is set."""
    from reasonops_llm.config import ChainError, parse_chain

    _check_agent(agent)
    try:
        parse_chain(chain)
    except ChainError as exc:
        raise CliError(f"--chain: {exc}") from None
    config = AgentConfig(chain=chain, temperature=temperature, updated_by=who_am_i(),
                         updated_at=datetime.now(UTC))
    try:
        with_nats(lambda nc: write_config(nc, agent, config))
    except ConfigUnavailable as exc:
        raise CliError(str(exc)) from None
    typer.echo(f"{agent}: chain '{chain}' set; every running replica of agent-{agent} "
               "applies it now (see `reasonops agents providers`).")


LONG_RUN = 50
"""Cases from which a run shows a progress bar on a terminal."""


def _progress(label: str, total: int) -> Callable[[int], None]:
    """Cases done of ``total`` on stderr: a bar redrawn in place on a terminal, else a
    line at every tenth (a CI log)."""
    terminal = sys.stderr.isatty()
    step = max(1, total // 10)

    def show(done: int) -> None:
        if terminal:
            filled = round(30 * done / total) if total else 30
            sys.stderr.write(f"\r{label} [{'#' * filled}{'-' * (30 - filled)}] "
                             f"{done}/{total}" + ("\n" if done >= total else ""))
        elif done % step == 0 or done >= total:
            sys.stderr.write(f"{label} {done}/{total}\n")
        sys.stderr.flush()
    return show


Cases = Annotated[list[Path], typer.Argument(
    help="JSONL files, one labelled case a line.", exists=True, dir_okay=False)]


def _evaluation(agent: str) -> Any:
    found = {ep.name: ep for ep in entry_points(group="reasonops.agent_evals")}
    if agent not in found:
        raise CliError(f"--agent: no evaluation for {agent!r}; available: "
                       f"{', '.join(sorted(found)) or 'none'}")
    return found[agent].load()


@app.command("eval")
def eval_(
    cases: Cases,
    agent: Annotated[str, typer.Option("--agent", help="The agent to evaluate.")] = "triage",
    chain: Annotated[str, typer.Option(help="Provider chain to evaluate.")] = "rules",
    misses: Annotated[bool, typer.Option("--misses", help="List the wrong decisions.")]
    = False,
    leave_one_source_out: Annotated[bool, typer.Option(
        "--leave-one-source-out", help="Triage: score each source tool's cases with what "
        "was learned from the dev cases of the other tools.")] = False,
    progress: Annotated[bool | None, typer.Option(
        "--progress/--no-progress", help="A progress bar on stderr (default: on a "
        f"terminal, from {LONG_RUN} cases).")] = None,
    json: Json = False,
) -> None:
    """Run an agent over labelled cases and report how often it decided right: for
    triage accuracy per field (and by split, difficulty and language where cases say),
    a confusion matrix, latency and cost per provider; for rca, security and capacity
    their own measures. Cases may carry other fields (an id, notes): kept, not used."""
    from reasonops_llm.config import ChainError

    module = _evaluation(agent)
    if leave_one_source_out:
        if not hasattr(module, "leave_one_source_out"):
            raise CliError(f"--leave-one-source-out: not for {agent!r}, only for triage")
        try:
            loso = module.leave_one_source_out(cases)
        except module.CaseError as exc:
            raise CliError(str(exc)) from None
        typer.echo(jsonlib.dumps(loso.as_dict(), indent=2) if json
                   else module.render_leave_one_out(loso))
        return
    total = module.count_cases(cases)
    if progress is None:
        progress = total >= LONG_RUN and sys.stderr.isatty()
    try:
        report = asyncio.run(module.run(cases, chain=chain, progress=_progress(
            f"{agent} eval", total) if progress else None))
    except (module.CaseError, ChainError) as exc:
        raise CliError(str(exc)) from None
    if json:
        typer.echo(jsonlib.dumps(report.as_dict(), indent=2, default=str))
        return
    typer.echo(module.render(report))
    if misses and report.misses:
        typer.echo("\nmisses:\n" + "\n".join(f"  {m}" for m in report.misses))


@app.command("tune")
def tune(
    cases: Cases,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Write the learned vocabulary here (default: print it).",
        dir_okay=False)] = None,
) -> None:
    """Learn the triage rules' words from the dev split of labelled cases: words that
    cases of one category share. Cases of any other split are counted, never read."""
    module = _evaluation("triage")
    try:
        text, summary = module.tune(cases)
    except module.CaseError as exc:
        raise CliError(str(exc)) from None
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
    typer.echo(summary, err=True)
