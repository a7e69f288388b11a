"""``/api/agents``: what the agents decided, which providers they use and how healthy
those are; the paths (``/decisions``, ``/health``, ``/providers``) are the ones users'
scripts already call."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Query

from reasonops_client.agent_config import ConfigUnavailable, read_configs, write_config
from reasonops_client.agents import (
    AgentsUnavailable,
    gather_statuses,
    read_decisions,
    read_requests,
)
from reasonops_client.reports import provider_health
from reasonops_contracts import Envelope
from reasonops_contracts.agents import (
    AGENT_NAMES,
    DECIDERS,
    AgentConfig,
    AgentDecisionRecorded,
    AgentRun,
    AgentStatus,
    RunTriage,
)
from reasonops_contracts.api import (
    AgentConfiguration,
    AgentRunResult,
    ConfigureLlm,
    DecisionList,
    ProviderHealth,
    Providers,
    RunAgents,
)
from reasonops_contracts.gateway import AgentConfigured
from reasonops_contracts.incidents import GetIncident, IncidentView

from ..events import SOURCE
from .context import Caller, CallerDep, Gateway, GatewayDep
from .errors import Problem

router = APIRouter(prefix="/api/agents", tags=["agents"])
T = TypeVar("T")
STATUS_WAIT_SECONDS = 1.0
AgentName = Literal["triage", "rca", "security", "capacity", "slm", "briefing"]
LOCAL_PROVIDERS = ("ollama", "openai-compatible", "tgi", "rules")


@router.get("/decisions", response_model=DecisionList, summary="Agent decisions")
async def decisions(caller: CallerDep, gateway: GatewayDep,
                    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
                    event_type: Annotated[Literal["incident", "alert"] | None, Query(
                        description="incident: decisions about an incident; alert: the "
                        "others")] = None,
                    agent: AgentName | None = None,
                    agent_name: Annotated[str | None, Query(
                        description="Alias of agent")] = None,
                    incident_id: str | None = None,
                    inputs: Annotated[bool, Query(description=(
                        "Add what each decision was asked (its request)"))] = False
                    ) -> DecisionList:
    """Who decided (provider, model, prompt), with what fallback, and the output; with
    ``inputs``, what each was asked."""
    visible = await gateway.visibility(caller, "agent decisions")
    name = agent or _agent_named(agent_name)
    opened_at = None
    if incident_id is not None:  # its decisions came after it opened: read from then
        try:
            about = await gateway.ask(caller, GetIncident(incident_id=incident_id),
                                      IncidentView)
        except Problem as exc:
            if exc.status not in (403, 404, 422):
                raise
            return DecisionList(total=0, decisions=[], inputs={})  # none it may read
        opened_at = about.opened_at
    try:
        found = await gateway.ask_all(lambda nc: read_decisions(nc, incident_id=incident_id,
                                                                agent=name, opened_at=opened_at))
    except AgentsUnavailable as exc:
        raise Problem(503, "unavailable", str(exc), headers={"Retry-After": "2"}) from None
    if event_type is not None:
        found = [d for d in found if (d.incident_id is not None) == (event_type == "incident")]
    if not visible.everything:
        found = await _readable(gateway, caller, found)
    shown = found[-limit:]
    asked: dict[str, dict[str, Any]] = {}
    if inputs:
        wanted = {d.request_id for d in shown}
        asked = await gateway.ask_all(lambda nc: read_requests(nc, wanted))
    return DecisionList(total=len(found), decisions=shown, inputs=asked)


def _agent_named(name: str | None) -> str | None:
    """``triage`` or a product-style name (``TriageAgent``) -> the agent."""
    if name is None:
        return None
    plain = name.lower().removesuffix("agent").strip("_- ")
    if plain not in DECIDERS:
        raise Problem(422, "invalid_request", f"agent_name: unknown agent {name!r}; known: "
                      f"{', '.join(DECIDERS)}", field="query.agent_name")
    return plain


async def _readable(gateway: Gateway, caller: Caller,
                    found: list[AgentDecisionRecorded]) -> list[AgentDecisionRecorded]:
    """The decisions about incidents the caller may read (a scoped reader sees no
    decision that is not about an incident)."""
    allowed: dict[str, bool] = {}
    for incident_id in {d.incident_id for d in found if d.incident_id}:
        try:
            await gateway.ask(caller, GetIncident(incident_id=incident_id), IncidentView)
            allowed[incident_id] = True
        except Problem:
            allowed[incident_id] = False
    return [d for d in found if d.incident_id and allowed.get(d.incident_id)]


async def _statuses(gateway: Gateway, probe: bool) -> list[AgentStatus]:
    return await gateway.ask_all(lambda nc: gather_statuses(nc, probe=probe,
                                                            wait=STATUS_WAIT_SECONDS))


@router.get("/health", response_model=dict[str, ProviderHealth],
            summary="Each provider's health")
async def health(caller: CallerDep, gateway: GatewayDep) -> dict[str, ProviderHealth]:
    """Provider name -> its status across every running agent (each probes its
    providers; ``rules`` is always healthy). Empty when no agent runs."""
    await gateway.visibility(caller, "agent health")
    return provider_health(await _statuses(gateway, True))


@router.get("/providers", response_model=Providers, summary="The provider chains in use")
async def providers(caller: CallerDep, gateway: GatewayDep) -> Providers:
    await gateway.visibility(caller, "agent providers")
    found = await _statuses(gateway, False)
    used: dict[str, Any] = {}
    for status in found:
        for p in status.providers:
            used.setdefault(p.provider, p)
    return Providers(
        providers=sorted(used),
        recommended={"local": [p for p in LOCAL_PROVIDERS if p in used or p == "rules"],
                     "cloud": sorted(n for n, p in used.items() if p.external)},
        agents=found)


@router.get("/configuration", response_model=AgentConfiguration,
            summary="The agents' configuration set through the API or CLI")
async def configuration(caller: CallerDep, gateway: GatewayDep) -> AgentConfiguration:
    await gateway.visibility(caller, "agent configuration")
    return AgentConfiguration(agents=await _bucket(gateway, read_configs))


@router.post("/configure-llm", response_model=AgentConfiguration,
             summary="Set the agents' provider, model and temperature")
async def configure_llm(caller: CallerDep, gateway: GatewayDep,
                        body: ConfigureLlm) -> AgentConfiguration:
    """Every agent (or ``agent``) decides with ``provider:model`` first, then the rules,
    from its next decision on: each replica watches the agents' bucket, so nothing
    restarts. Takes ``agent.configure``; kept on record."""
    if body.api_key is not None:
        raise Problem(422, "invalid_request", "api_key: keys are not taken over the API; "
                      "give the agents theirs in their environment or a key file "
                      "(REASONOPS_<PROVIDER>_API_KEY_FILE)", field="body.api_key")
    kind = PROVIDER_ALIASES.get(body.provider, body.provider)
    if kind != "rules" and not body.model:
        raise Problem(422, "invalid_request", f"model: {body.provider} needs a model",
                      field="body.model")
    chain = "rules" if kind == "rules" else f"{kind}:{body.model} -> rules"
    agents = [body.agent] if body.agent else list(AGENT_NAMES)
    await gateway.authorise(caller, "agent.configure", ", ".join(agents))
    now = gateway.clock.now()
    config = AgentConfig(chain=chain, temperature=body.temperature,
                         updated_by=caller.principal, updated_at=now)
    async def write_all(nc: Any) -> None:
        for name in agents:
            await write_config(nc, name, config)

    await _bucket(gateway, write_all)
    async with gateway.transaction() as tx:
        for name in agents:
            tx.emit(Envelope.wrap(AgentConfigured(
                agent=name, chain=chain, temperature=body.temperature,
                actor=caller.principal, configured_at=now), source=SOURCE, subject=name))
    return AgentConfiguration(agents=await _bucket(gateway, read_configs))


PROVIDER_ALIASES = {"google": "gemini", "mock": "rules"}
"""The product's provider names -> ReasonOps' provider kinds."""


async def _bucket(gateway: Gateway, use: Callable[[Any], Awaitable[T]]) -> T:
    """``use(nc)`` on the agents' configuration bucket; 503 while there is none."""
    try:
        return await gateway.ask_all(use)
    except ConfigUnavailable as exc:
        raise Problem(503, "unavailable", str(exc), headers={"Retry-After": "2"}) from None


SEVERITIES = {"low": "info", "medium": "warning", "high": "error", "critical": "critical",
              "info": "info", "warning": "warning", "error": "error"}
"""The product's severities (low..critical) and ReasonOps' own."""


@router.post("/run", response_model=AgentRunResult, summary="Run an agent on an event")
async def run(caller: CallerDep, gateway: GatewayDep, body: RunAgents) -> AgentRunResult:
    """The triage agent decides on the event described, now, with its providers and then
    its rules; nothing is applied and no decision is recorded. Takes ``agent.run``."""
    data = body.event_data
    severity = SEVERITIES.get(str(data.get("severity", "medium")).lower())
    if severity is None:
        raise Problem(422, "invalid_request", "event_data.severity: one of "
                      f"{', '.join(SEVERITIES)}", field="body.event_data.severity")
    title = data.get("description") or data.get("title") or data.get("summary")
    if not isinstance(title, str) or not title.strip():
        raise Problem(422, "invalid_request", "event_data.description: say what happened",
                      field="body.event_data.description")
    labels = data.get("labels") or {}
    if not isinstance(labels, dict):
        raise Problem(422, "invalid_request", "event_data.labels: an object of strings",
                      field="body.event_data.labels")
    await gateway.authorise(caller, "agent.run", body.agent)
    found = await gateway.ask(caller, RunTriage(
        incident_id=str(data.get("incident_id") or "")[:32], title=title[:1024],
        service=_text(data.get("service")), resource=_text(data.get("resource")),
        severity=severity, priority=_priority(data.get("priority")),
        labels={str(k)[:128]: str(v)[:1024] for k, v in list(labels.items())[:64]}),
        AgentRun)
    return AgentRunResult(decisions=[found.decision], proposals=found.proposals)


def _text(value: object) -> str | None:
    return str(value)[:256] if value is not None else None


def _priority(value: object) -> int:
    try:
        return min(5, max(1, int(str(value))))
    except ValueError:
        return 3
