"""Agents (for whoever may configure or run them): providers and their health, latency
and error rates, each running agent's chain, recent decisions with what they were asked,
their reasons, attempts and costs, changing the chain live, and running the triage agent
on an event someone describes."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reasonops_contracts.agents import AgentDecisionRecorded
from reasonops_contracts.api import Me
from reasonops_sdk import AsyncReasonOpsClient
from reasonops_sdk.errors import ApiError, ReasonOpsError

from . import session
from .forms import forged, form_field
from .frame import Console, Shown

PROVIDERS = ("rules", "ollama", "openai", "azure", "anthropic", "gemini", "huggingface")
AGENTS = ("triage", "rca", "security", "capacity")
SEVERITIES = ("low", "medium", "high", "critical")
DECISIONS = 25
MEASURED = 500
"""Decisions the providers' latency and error rates are measured over."""
HIDDEN_INPUTS = frozenset({"request_id", "workflow_id", "type"})


def routes(console: Console) -> list[Route]:
    async def agents_page(request: Request) -> Response:
        return await console.show(request, agents)

    async def configure(request: Request) -> Response:
        async def run(client: AsyncReasonOpsClient, form: FormData) -> None:
            agent = str(form.get("agent") or "") or None
            await client.configure_llm_provider(
                str(form.get("provider") or ""), str(form.get("model") or "").strip() or None,
                _temperature(form.get("temperature")), agent=agent)
        return await console.perform(request, run, back="/agents", done="configure",
                                     again=agents)

    async def run_agent(request: Request) -> Response:
        """Decides now and shows the decision; nothing is applied or recorded, so the
        page is rendered in answer to the post (a repeat decides again, harmlessly)."""
        token = session.token_of(request)
        if token is None:
            return console.to_login(request)
        form = await request.form()
        if (refused := forged(form, token)) is not None:
            return refused
        event = _event(form)
        async with console.client(token) as client:
            try:
                result = await client.run_agents("incident", event)
            except ApiError as exc:
                if exc.status == 401:
                    return console.to_login(request)
                return await console.show(request, agents, error=exc.problem.detail,
                                          status=exc.status, field=form_field(exc.field))
            except ReasonOpsError:
                return await console.show(request, agents, status=503, error=(
                    "The agent did not answer. Retry in a moment."))

        async def with_result(request: Request, client: AsyncReasonOpsClient,
                              me: Me) -> Shown:
            shown = await agents(request, client, me)
            shown.context.update(ran=result.decisions[0] if result.decisions else None,
                                 proposals=result.proposals, event=event)
            return shown
        return await console.show(request, with_result)

    return [Route("/agents", agents_page),
            Route("/agents/configure", configure, methods=["POST"]),
            Route("/agents/run", run_agent, methods=["POST"])]


async def agents(request: Request, client: AsyncReasonOpsClient, me: Me) -> Shown:
    health = await client.check_agent_health()
    providers = await client.list_llm_providers()
    decisions = await client.get_agent_decisions(limit=MEASURED, inputs=True)
    shown = decisions.decisions[-DECISIONS:]
    return Shown("agents.html", {
        "health": health, "running": providers.agents,
        "decisions": list(reversed(shown)),
        "inputs": {d.request_id: {k: v for k, v in decisions.inputs.get(d.request_id, {})
                                  .items() if k not in HIDDEN_INPUTS and v not in (None, "")}
                   for d in shown},
        "figures": provider_figures(decisions.decisions),
        "measured": len(decisions.decisions),
        "may_configure": me.can.get("agent.configure", False),
        "may_run": me.can.get("agent.run", False),
        "providers": PROVIDERS, "agent_names": AGENTS, "severities": SEVERITIES,
        "ran": None, "proposals": [], "event": {}})


@dataclass
class ProviderFigures:
    """One provider's calls over recent decisions: how many, how many failed and why,
    and how long the answered ones took."""

    provider: str
    calls: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return sum(self.failures.values())

    @property
    def error_rate(self) -> float:
        return 100.0 * self.failed / self.calls if self.calls else 0.0

    def percentile(self, q: float) -> float | None:
        """The nearest-rank ``q`` percentile of the answered calls' latency, in ms."""
        if not self.latencies:
            return None
        ranked = sorted(self.latencies)
        return ranked[max(0, math.ceil(q / 100 * len(ranked)) - 1)]


def provider_figures(decisions: Iterable[AgentDecisionRecorded]) -> list[ProviderFigures]:
    """Every provider tried in ``decisions`` (each attempt is one call), busiest first."""
    found: dict[str, ProviderFigures] = {}
    for decision in decisions:
        for attempt in decision.attempts:
            figures = found.setdefault(attempt.provider, ProviderFigures(attempt.provider))
            figures.calls += 1
            if attempt.outcome == "ok":
                figures.latencies.append(attempt.latency_ms)
            else:
                figures.failures[attempt.outcome] = figures.failures.get(attempt.outcome,
                                                                         0) + 1
    return sorted(found.values(), key=lambda f: (-f.calls, f.provider))


def _temperature(value: Any) -> float:
    try:
        return float(value) if value not in (None, "") else 0.0
    except (TypeError, ValueError):
        return -1.0  # the API names the field and the range


def _event(form: FormData) -> dict[str, Any]:
    """The event as the run API takes it; labels one ``name=value`` a line."""
    labels = {}
    for line in str(form.get("labels") or "").splitlines():
        name, sep, value = line.partition("=")
        if sep and name.strip():
            labels[name.strip()] = value.strip()
    return {"description": str(form.get("description") or "").strip(),
            "severity": str(form.get("severity") or "medium"),
            "service": str(form.get("service") or "").strip() or None,
            "labels": labels}
