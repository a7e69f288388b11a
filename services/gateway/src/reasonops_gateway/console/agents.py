"""Agents (for whoever may configure or run them): providers and their health, each
running agent's chain, recent decisions with their reasons and costs, changing the chain
live, and running the triage agent on an event someone describes."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from reasonops_contracts.api import Me
from reasonops_sdk import AsyncReasonOpsClient
from reasonops_sdk.errors import ApiError, ReasonOpsError

from . import session
from .frame import Console, Shown, forged, form_field

PROVIDERS = ("rules", "ollama", "openai", "azure", "anthropic", "gemini", "huggingface")
AGENTS = ("triage", "rca", "security", "capacity")
SEVERITIES = ("low", "medium", "high", "critical")
DECISIONS = 25


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
    decisions = await client.get_agent_decisions(limit=DECISIONS)
    return Shown("agents.html", {
        "health": health, "running": providers.agents,
        "decisions": list(reversed(decisions.decisions)),
        "may_configure": me.can.get("agent.configure", False),
        "may_run": me.can.get("agent.run", False),
        "providers": PROVIDERS, "agent_names": AGENTS, "severities": SEVERITIES,
        "ran": None, "proposals": [], "event": {}})


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
