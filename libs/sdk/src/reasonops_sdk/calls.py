"""The calls of the REST API as data: method, path, query, body and the model of the
answer (change management's and the ServiceNow sync's are in ``desk.py``). The sync and
async clients both carry out these same calls.

Every command (``POST``, ``PUT``, ``PATCH``, ``DELETE``) carries an ``Idempotency-Key`` of
its own, the same on every retry, so retrying one whose answer was lost applies it once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar
from urllib.parse import quote
from uuid import uuid4

from pydantic import TypeAdapter
from pydantic_core import to_jsonable_python

from reasonops_contracts.agents import AgentDecisionRecorded
from reasonops_contracts.api import (
    AgentConfiguration,
    AgentRunResult,
    CheckResult,
    Dashboard,
    DecisionList,
    EntryPage,
    IncidentPage,
    Me,
    MonthlySummary,
    PolicyView,
    ProviderHealth,
    Providers,
    SlmMetrics,
    Trail,
)
from reasonops_contracts.finance import (
    BudgetList,
    EntryTrace,
    FinanceSummary,
    PeriodList,
    PeriodView,
)
from reasonops_contracts.gateway import ApiTokenIssued, ApiTokenList, ApiTokenView
from reasonops_contracts.incidents import (
    IncidentCounts,
    IncidentView,
    ProblemList,
    ProblemView,
    SilenceList,
    SilenceView,
)
from reasonops_contracts.ingest import HeartbeatList, IntegrationKeyIssued, IntegrationList
from reasonops_contracts.oncall import OnCallNow, OverrideView, ScheduleList, ShiftList
from reasonops_contracts.slm import (
    SlaClockList,
    SlaPolicyList,
    SlaReport,
    SlaStatus,
    SupplierContractList,
)
from reasonops_contracts.workflows import (
    WorkflowDefinitionList,
    WorkflowInstanceList,
    WorkflowView,
)

T = TypeVar("T")
DEFAULT_URL = "http://127.0.0.1:8080"
TRANSITIONS = ("acknowledge", "resolve", "close", "reopen", "hold", "resume", "declare-major")


@dataclass(frozen=True)
class Call(Generic[T]):
    method: str
    path: str
    result: TypeAdapter[T]
    params: dict[str, Any] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    key: str | None = None
    """The command's ``Idempotency-Key`` (None for a read)."""

    @property
    def idempotent(self) -> bool:
        """Safe to send again: a read, or a command with its key."""
        return self.method in ("GET", "HEAD") or self.key is not None

    def query(self) -> list[tuple[str, str]]:
        """Query parameters without the unset ones; lists repeat their name."""
        found: list[tuple[str, str]] = []
        for name, value in self.params.items():
            for item in value if isinstance(value, list | tuple) else [value]:
                if item is None:
                    continue
                text = (item.isoformat() if isinstance(item, datetime) else
                        str(item).lower() if isinstance(item, bool) else str(item))
                found.append((name, text))
        return found


def _call(method: str, path: str, result: Any, *, body: dict[str, Any] | None = None,
          **params: Any) -> Call[Any]:
    key = None if method in ("GET", "HEAD") else str(uuid4())
    return Call(method, path, TypeAdapter(result), params, body, key)


def _id(value: str) -> str:
    return quote(value, safe="")


def _body(**fields: Any) -> dict[str, Any]:
    """The fields given, as JSON carries them (a datetime as ISO 8601, a Decimal as
    text, a model as its fields)."""
    found: dict[str, Any] = to_jsonable_python({k: v for k, v in fields.items()
                                                if v is not None})
    return found


# -- Reports --------------------------------------------------------------------------------

def dashboard() -> Call[Dashboard]:
    return _call("GET", "/api/dashboard", Dashboard)


def slm_metrics(period_days: int | None, month: str | None,
                service: str | None) -> Call[SlmMetrics]:
    return _call("GET", "/api/sla/metrics", SlmMetrics, period_days=period_days, month=month,
                 service=service)


def monthly_summary(month: str | None) -> Call[MonthlySummary]:
    return _call("GET", "/api/reports/monthly", MonthlySummary, month=month)


def sla_report(month: str | None, period_days: int | None,
               service: str | None) -> Call[SlaReport]:
    return _call("GET", "/api/sla/report", SlaReport, month=month, period_days=period_days,
                 service=service)


def supplier_contracts() -> Call[SupplierContractList]:
    return _call("GET", "/api/sla/contracts", SupplierContractList)


def sla_clocks(attention: str, at_risk_percent: int, service: str | None,
               limit: int) -> Call[SlaClockList]:
    return _call("GET", "/api/sla/clocks", SlaClockList, attention=attention,
                 at_risk_percent=at_risk_percent, service=service, limit=limit)


def sla_policies(service: str | None) -> Call[SlaPolicyList]:
    return _call("GET", "/api/sla/policies", SlaPolicyList, service=service)


# -- Incidents ------------------------------------------------------------------------------

def incidents(filters: dict[str, Any], limit: int, cursor: str | None) -> Call[IncidentPage]:
    return _call("GET", "/api/incidents", IncidentPage, **filters, limit=limit, cursor=cursor)


def create_incident(**fields: Any) -> Call[IncidentView]:
    return _call("POST", "/api/incidents", IncidentView, body=_body(**fields))


def incident(incident_id: str) -> Call[IncidentView]:
    return _call("GET", f"/api/incidents/{_id(incident_id)}", IncidentView)


def incident_counts(**filters: Any) -> Call[IncidentCounts]:
    return _call("GET", "/api/incidents/counts", IncidentCounts, **filters)


def transition(incident_id: str, verb: str, note: str | None) -> Call[IncidentView]:
    if verb not in TRANSITIONS:
        raise ValueError(f"verb: one of {', '.join(TRANSITIONS)}")
    return _call("POST", f"/api/incidents/{_id(incident_id)}/{verb}", IncidentView,
                 body=_body(note=note))


def assign(incident_id: str, group: str, note: str | None) -> Call[IncidentView]:
    return _call("POST", f"/api/incidents/{_id(incident_id)}/assign", IncidentView,
                 body=_body(assignment_group=group, note=note))


def change_priority(incident_id: str, impact: int, urgency: int,
                    reason: str) -> Call[IncidentView]:
    return _call("POST", f"/api/incidents/{_id(incident_id)}/priority", IncidentView,
                 body={"impact": impact, "urgency": urgency, "note": reason})


def comment(incident_id: str, note: str) -> Call[IncidentView]:
    return _call("POST", f"/api/incidents/{_id(incident_id)}/comments", IncidentView,
                 body={"note": note})


def incident_sla(incident_id: str) -> Call[SlaStatus]:
    return _call("GET", f"/api/incidents/{_id(incident_id)}/sla", SlaStatus)


def incident_briefing(incident_id: str) -> Call[AgentDecisionRecorded]:
    return _call("GET", f"/api/incidents/{_id(incident_id)}/briefing",
                 AgentDecisionRecorded)


def incident_audit(incident_id: str) -> Call[Trail]:
    return _call("GET", f"/api/incidents/{_id(incident_id)}/audit", Trail)


def incident_workflow(incident_id: str) -> Call[WorkflowView]:
    return _call("GET", f"/api/incidents/{_id(incident_id)}/workflow", WorkflowView)


# -- Problems and silences -------------------------------------------------------------------

def problems(states: list[str] | None, limit: int) -> Call[ProblemList]:
    return _call("GET", "/api/problems", ProblemList, state=states, limit=limit)


def problem(problem_id: str) -> Call[ProblemView]:
    return _call("GET", f"/api/problems/{_id(problem_id)}", ProblemView)


def update_problem(problem_id: str, **fields: Any) -> Call[ProblemView]:
    return _call("PATCH", f"/api/problems/{_id(problem_id)}", ProblemView,
                 body=_body(**fields))


def silences(include_expired: bool) -> Call[SilenceList]:
    return _call("GET", "/api/silences", SilenceList, include_expired=include_expired)


def create_silence(**fields: Any) -> Call[SilenceView]:
    return _call("POST", "/api/silences", SilenceView, body=_body(**fields))


def silence(silence_id: str) -> Call[SilenceView]:
    return _call("GET", f"/api/silences/{_id(silence_id)}", SilenceView)


def expire_silence(silence_id: str) -> Call[SilenceView]:
    return _call("DELETE", f"/api/silences/{_id(silence_id)}", SilenceView)


# -- Finance ---------------------------------------------------------------------------------

def finance_summary(month: str | None) -> Call[FinanceSummary]:
    return _call("GET", "/api/finance/summary", FinanceSummary, month=month)


def entries(month: str | None, incident_id: str | None, limit: int,
            cursor: str | None) -> Call[EntryPage]:
    return _call("GET", "/api/finance/entries", EntryPage, month=month,
                 incident_id=incident_id, limit=limit, cursor=cursor)


def trace_entry(entry_id: str) -> Call[EntryTrace]:
    return _call("GET", f"/api/finance/entries/{_id(entry_id)}/trace", EntryTrace)


def budgets(month: str | None) -> Call[BudgetList]:
    return _call("GET", "/api/finance/budgets", BudgetList, month=month)


def periods() -> Call[PeriodList]:
    return _call("GET", "/api/finance/periods", PeriodList)


def close_period(month: str) -> Call[PeriodView]:
    return _call("POST", f"/api/finance/periods/{_id(month)}/close", PeriodView)


# -- Workflows -------------------------------------------------------------------------------

def workflow_definitions() -> Call[WorkflowDefinitionList]:
    return _call("GET", "/api/workflows/definitions", WorkflowDefinitionList)


def workflow_instances(**filters: Any) -> Call[WorkflowInstanceList]:
    return _call("GET", "/api/workflows/instances", WorkflowInstanceList, **filters)


def workflow(workflow_id: str) -> Call[WorkflowView]:
    return _call("GET", f"/api/workflows/instances/{_id(workflow_id)}", WorkflowView)


def decide_step(workflow_id: str, step: str, verb: str,
                note: str | None) -> Call[WorkflowView]:
    return _call("POST", f"/api/workflows/instances/{_id(workflow_id)}/steps/{_id(step)}/"
                 f"{verb}", WorkflowView, body=_body(note=note))


# -- Agents ----------------------------------------------------------------------------------

def decisions(limit: int, event_type: str | None, agent_name: str | None,
              incident_id: str | None, inputs: bool = False) -> Call[DecisionList]:
    return _call("GET", "/api/agents/decisions", DecisionList, limit=limit,
                 event_type=event_type, agent_name=agent_name, incident_id=incident_id,
                 inputs=inputs or None)


def run_agents(event_type: str, event_data: dict[str, Any]) -> Call[AgentRunResult]:
    return _call("POST", "/api/agents/run", AgentRunResult,
                 body={"event_type": event_type, "event_data": event_data})


def configure_llm(provider: str, model: str | None, temperature: float,
                  agent: str | None) -> Call[AgentConfiguration]:
    return _call("POST", "/api/agents/configure-llm", AgentConfiguration,
                 body=_body(provider=provider, model=model, temperature=temperature,
                            agent=agent))


def agents_health() -> Call[dict[str, ProviderHealth]]:
    return _call("GET", "/api/agents/health", dict[str, ProviderHealth])


def providers() -> Call[Providers]:
    return _call("GET", "/api/agents/providers", Providers)


# -- Administration ----------------------------------------------------------------------------

def integrations(include_revoked: bool) -> Call[IntegrationList]:
    return _call("GET", "/api/integrations", IntegrationList, include_revoked=include_revoked)


def create_integration(**fields: Any) -> Call[IntegrationKeyIssued]:
    return _call("POST", "/api/integrations", IntegrationKeyIssued, body=_body(**fields))


def revoke_integration(name: str) -> Call[IntegrationList]:
    return _call("DELETE", f"/api/integrations/{_id(name)}", IntegrationList)


def rotate_integration(name: str, grace_seconds: int | None) -> Call[IntegrationKeyIssued]:
    return _call("POST", f"/api/integrations/{_id(name)}/rotate", IntegrationKeyIssued,
                 body=_body(grace_seconds=grace_seconds))


def heartbeats(integration: str | None) -> Call[HeartbeatList]:
    return _call("GET", "/api/heartbeats", HeartbeatList, integration=integration)


def tokens(principal: str | None, include_revoked: bool) -> Call[ApiTokenList]:
    return _call("GET", "/api/tokens", ApiTokenList, principal=principal,
                 include_revoked=include_revoked)


def create_token(**fields: Any) -> Call[ApiTokenIssued]:
    return _call("POST", "/api/tokens", ApiTokenIssued, body=_body(**fields))


def revoke_token(token_id: str) -> Call[ApiTokenView]:
    return _call("DELETE", f"/api/tokens/{_id(token_id)}", ApiTokenView)


def policy() -> Call[PolicyView]:
    return _call("GET", "/api/policy", PolicyView)


def check_policy(action: str, principal: str | None, team: str | None,
                 service: str | None) -> Call[CheckResult]:
    return _call("GET", "/api/policy/check", CheckResult, action=action, principal=principal,
                 team=team, service=service)


def me() -> Call[Me]:
    return _call("GET", "/api/me", Me)


# -- on call ---------------------------------------------------------------------------------

def oncall_schedules() -> Call[ScheduleList]:
    return _call("GET", "/api/oncall/schedules", ScheduleList)


def who_is_on_call(schedule: str | None, service: str | None,
                   at: datetime | None) -> Call[OnCallNow]:
    if (schedule is None) == (service is None):
        raise ValueError("schedule or service: give exactly one of them")
    path = (f"/api/oncall/schedules/{_id(schedule)}/now" if schedule is not None
            else f"/api/oncall/services/{_id(str(service))}/now")
    return _call("GET", path, OnCallNow, at=at)


def oncall_shifts(schedule: str, start: datetime | None,
                  end: datetime | None) -> Call[ShiftList]:
    return _call("GET", f"/api/oncall/schedules/{_id(schedule)}/shifts", ShiftList,
                 start=start, end=end)


def create_override(schedule: str, **fields: Any) -> Call[OverrideView]:
    return _call("POST", f"/api/oncall/schedules/{_id(schedule)}/overrides", OverrideView,
                 body=_body(**fields))


def remove_override(override_id: str) -> Call[OverrideView]:
    return _call("DELETE", f"/api/oncall/overrides/{_id(override_id)}", OverrideView)
