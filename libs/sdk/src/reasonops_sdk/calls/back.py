"""The calls of the back office: finance, workflows, agents and administration."""

from __future__ import annotations

from typing import Any

from reasonops_contracts.api import (
    AgentConfiguration,
    AgentRunResult,
    CheckResult,
    DecisionList,
    EntryPage,
    Me,
    PolicyView,
    ProviderHealth,
    Providers,
)
from reasonops_contracts.finance import (
    BudgetList,
    EntryTrace,
    FinanceSummary,
    PeriodList,
    PeriodView,
)
from reasonops_contracts.gateway import ApiTokenIssued, ApiTokenList, ApiTokenView
from reasonops_contracts.ingest import HeartbeatList, IntegrationKeyIssued, IntegrationList
from reasonops_contracts.workflows import (
    WorkflowDefinitionList,
    WorkflowInstanceList,
    WorkflowView,
)

from .base import Call, call, json_body, quoted

# -- Finance ---------------------------------------------------------------------------------

def finance_summary(month: str | None) -> Call[FinanceSummary]:
    return call("GET", "/api/finance/summary", FinanceSummary, month=month)


def entries(month: str | None, incident_id: str | None, limit: int,
            cursor: str | None) -> Call[EntryPage]:
    return call("GET", "/api/finance/entries", EntryPage, month=month,
                incident_id=incident_id, limit=limit, cursor=cursor)


def trace_entry(entry_id: str) -> Call[EntryTrace]:
    return call("GET", f"/api/finance/entries/{quoted(entry_id)}/trace", EntryTrace)


def budgets(month: str | None) -> Call[BudgetList]:
    return call("GET", "/api/finance/budgets", BudgetList, month=month)


def periods() -> Call[PeriodList]:
    return call("GET", "/api/finance/periods", PeriodList)


def close_period(month: str) -> Call[PeriodView]:
    return call("POST", f"/api/finance/periods/{quoted(month)}/close", PeriodView)


# -- Workflows -------------------------------------------------------------------------------

def workflow_definitions() -> Call[WorkflowDefinitionList]:
    return call("GET", "/api/workflows/definitions", WorkflowDefinitionList)


def workflow_instances(**filters: Any) -> Call[WorkflowInstanceList]:
    return call("GET", "/api/workflows/instances", WorkflowInstanceList, **filters)


def workflow(workflow_id: str) -> Call[WorkflowView]:
    return call("GET", f"/api/workflows/instances/{quoted(workflow_id)}", WorkflowView)


def decide_step(workflow_id: str, step: str, verb: str,
                note: str | None) -> Call[WorkflowView]:
    return call("POST", f"/api/workflows/instances/{quoted(workflow_id)}/steps/{quoted(step)}/"
                f"{verb}", WorkflowView, body=json_body(note=note))


# -- Agents ----------------------------------------------------------------------------------

def decisions(limit: int, event_type: str | None, agent_name: str | None,
              incident_id: str | None, inputs: bool = False) -> Call[DecisionList]:
    return call("GET", "/api/agents/decisions", DecisionList, limit=limit,
                event_type=event_type, agent_name=agent_name, incident_id=incident_id,
                inputs=inputs or None)


def run_agents(event_type: str, event_data: dict[str, Any]) -> Call[AgentRunResult]:
    return call("POST", "/api/agents/run", AgentRunResult,
                body={"event_type": event_type, "event_data": event_data})


def configure_llm(provider: str, model: str | None, temperature: float,
                  agent: str | None) -> Call[AgentConfiguration]:
    return call("POST", "/api/agents/configure-llm", AgentConfiguration,
                body=json_body(provider=provider, model=model, temperature=temperature,
                            agent=agent))


def agents_health() -> Call[dict[str, ProviderHealth]]:
    return call("GET", "/api/agents/health", dict[str, ProviderHealth])


def providers() -> Call[Providers]:
    return call("GET", "/api/agents/providers", Providers)


# -- Administration ----------------------------------------------------------------------------

def integrations(include_revoked: bool) -> Call[IntegrationList]:
    return call("GET", "/api/integrations", IntegrationList, include_revoked=include_revoked)


def create_integration(**fields: Any) -> Call[IntegrationKeyIssued]:
    return call("POST", "/api/integrations", IntegrationKeyIssued, body=json_body(**fields))


def revoke_integration(name: str) -> Call[IntegrationList]:
    return call("DELETE", f"/api/integrations/{quoted(name)}", IntegrationList)


def rotate_integration(name: str, grace_seconds: int | None) -> Call[IntegrationKeyIssued]:
    return call("POST", f"/api/integrations/{quoted(name)}/rotate", IntegrationKeyIssued,
                body=json_body(grace_seconds=grace_seconds))


def heartbeats(integration: str | None) -> Call[HeartbeatList]:
    return call("GET", "/api/heartbeats", HeartbeatList, integration=integration)


def tokens(principal: str | None, include_revoked: bool) -> Call[ApiTokenList]:
    return call("GET", "/api/tokens", ApiTokenList, principal=principal,
                include_revoked=include_revoked)


def create_token(**fields: Any) -> Call[ApiTokenIssued]:
    return call("POST", "/api/tokens", ApiTokenIssued, body=json_body(**fields))


def revoke_token(token_id: str) -> Call[ApiTokenView]:
    return call("DELETE", f"/api/tokens/{quoted(token_id)}", ApiTokenView)


def policy() -> Call[PolicyView]:
    return call("GET", "/api/policy", PolicyView)


def check_policy(action: str, principal: str | None, team: str | None,
                 service: str | None) -> Call[CheckResult]:
    return call("GET", "/api/policy/check", CheckResult, action=action, principal=principal,
                team=team, service=service)


def me() -> Call[Me]:
    return call("GET", "/api/me", Me)
