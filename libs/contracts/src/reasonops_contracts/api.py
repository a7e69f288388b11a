"""The REST API's own shapes: pages, problem documents, reports and the views the
gateway builds (everything else it answers with is a query's view). Shared by the
gateway, which serves them, and the SDK, which reads them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .agents import (
    AgentConfig,
    AgentDecisionRecorded,
    AgentProposalRecorded,
    AgentStatus,
)
from .finance import LedgerEntryPosted
from .incidents import IncidentView


class ApiView(BaseModel):
    """A REST answer: read by attribute (``page.total``) or, as scripts written for the
    product this replaces do, like a mapping (``result["total"]``); fields a newer
    gateway adds are ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    def __getitem__(self, key: str) -> Any:
        if key not in type(self).model_fields:
            raise KeyError(key)
        return getattr(self, key)

    def keys(self) -> list[str]:
        return list(type(self).model_fields)

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key, default) if key in type(self).model_fields else default


# -- Errors ------------------------------------------------------------------------------------


class FieldProblem(ApiView):
    field: str = Field(description="Where: body.name, query.limit, path.incident_id")
    problem: str


class ProblemDocument(ApiView):
    """RFC 9457: what went wrong, for programs (``type``, ``status``, ``field``) and
    for people (``title``, ``detail``)."""

    type: str = Field(description="urn:reasonops:problem:<code>")
    title: str
    status: int
    detail: str
    instance: str | None = None
    field: str | None = Field(default=None, description="The field to blame, if one is")
    errors: list[FieldProblem] = Field(default_factory=list)


# -- Pages -------------------------------------------------------------------------------------


class IncidentPage(ApiView):
    items: list[IncidentView]
    total: int = Field(description="Matches of the filters, over every page")
    next_cursor: str | None = Field(default=None, description="Pass as cursor for the next "
                                    "page; absent on the last")


class EntryPage(ApiView):
    items: list[LedgerEntryPosted]
    total: int
    next_cursor: str | None = Field(default=None, description="For the next page")


class DecisionList(ApiView):
    total: int = Field(description="Decisions that matched, before limit")
    decisions: list[AgentDecisionRecorded] = Field(description="Newest last")
    inputs: dict[str, dict[str, Any]] = Field(default_factory=dict, description=(
        "With inputs=true: what each decision was asked (its request's fields, and the "
        "request's type), by request_id"))


# -- Incidents' audit trail ---------------------------------------------------------------


class TrailItem(ApiView):
    at: datetime
    type: str
    subject: str
    actor: str
    summary: str


class Trail(ApiView):
    incident_id: str
    items: list[TrailItem]


# -- Reports ------------------------------------------------------------------------------------


class SlmMetrics(ApiView):
    """The headline service-level figures over every service the reader may see."""

    period: str = Field(description="YYYY-MM, or last-<N>d")
    services: int
    availability_pct: Decimal = Field(description="Mean availability of the services, %")
    mttr_minutes: float | None = Field(description="Mean time to restore (per incident)")
    mtbf_hours: float | None = Field(description="Mean time between failures")
    mtta_minutes: float | None = Field(default=None, description="Mean time to acknowledge")
    incidents: int
    breaches: int


class ProviderHealth(ApiView):
    """One provider across every agent replica that uses it."""

    status: str = Field(description="healthy, unhealthy, circuit_open or unknown")
    agents: list[str] = Field(description="agent/instance pairs using it")
    model: str
    external: bool
    circuit: str
    detail: str = ""


class ServiceLevel(ApiView):
    service: str
    availability: Decimal
    slo: Decimal
    error_budget_remaining_percent: Decimal
    incidents: int
    breaches: int


class Money(ApiView):
    currency: str
    budget: Decimal
    actual: Decimal
    variance: Decimal


class Dashboard(ApiView):
    """The integrated view: services and their levels this month, open incidents,
    breaches and penalties, budget against actual, agent health."""

    month: str
    generated_at: datetime
    services: int = Field(description="Services the reader may see")
    offerings: int = Field(description="Of those, the ones measured against a service "
                           "level (an SLO or a supplier contract) this month")
    service_levels: list[ServiceLevel]
    open_incidents: int
    open_by_priority: dict[str, int]
    incidents_by_state: dict[str, int]
    breaches: int = Field(description="SLA breaches this month")
    penalties: dict[str, Decimal] = Field(description="Penalties this month, by currency")
    budget: list[Money] = Field(description="Budget against actual, by currency")
    agents: dict[str, ProviderHealth] = Field(description="Agent providers and their health")


class MonthlySummary(ApiView):
    """What a month cost and how the services did: the report people file."""

    month: str
    generated_at: datetime
    metrics: SlmMetrics
    service_levels: list[ServiceLevel]
    penalties: dict[str, dict[str, Decimal]] = Field(
        description="Supplier -> currency -> amount")
    penalty_totals: dict[str, Decimal] = Field(description="Currency -> amount")
    incident_costs: dict[str, dict[str, Decimal]] = Field(
        description="Service -> currency -> downtime and effort cost")
    budget: list[Money]


# -- Agents ---------------------------------------------------------------------------------


class Providers(ApiView):
    providers: list[str] = Field(description="Every provider a running agent uses")
    recommended: dict[str, list[str]] = Field(description="local: no data leaves; "
                                              "cloud: external APIs")
    agents: list[AgentStatus]


class ConfigureLlm(BaseModel):
    """The product's ``configure-llm`` body: one provider (then rules) for every agent,
    or for ``agent``."""

    model_config = ConfigDict(extra="forbid")

    provider: Literal["ollama", "openai", "azure", "anthropic", "gemini", "google",
                      "huggingface", "mock", "rules"]
    model: str | None = Field(default=None, min_length=1, max_length=128, description=(
        "Required unless provider is rules (or mock)"))
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    agent: Literal["triage", "rca", "security", "capacity"] | None = Field(
        default=None, description="Only this agent; default: all of them")
    api_key: str | None = Field(default=None, description=(
        "Refused: keys are the agents' secrets (their environment or key files), never "
        "sent over the API"))


class RunAgents(BaseModel):
    """The product's ``/api/agents/run`` body: an event, described."""

    model_config = ConfigDict(extra="forbid")

    event_type: str = Field(min_length=1, max_length=64, description=(
        "incident or alert (the triage agent decides on it)"))
    event_data: dict[str, Any] = Field(description=(
        "incident_id, severity (low, medium, high, critical, or ReasonOps' info, warning, "
        "error, critical), description or title, service, resource, priority, labels"))
    agent: Literal["triage"] = "triage"


class AgentRunResult(ApiView):
    """Users read ``result["decisions"]`` and ``result["actions_taken"]``."""

    decisions: list[AgentDecisionRecorded]
    proposals: list[AgentProposalRecorded] = Field(default_factory=list, description=(
        "What the agents would propose"))
    actions_taken: list[str] = Field(default_factory=list, description=(
        "Always empty: a run decides, it applies nothing"))


class AgentConfiguration(ApiView):
    """The configuration set for each agent (an agent not listed runs on its own
    settings)."""

    agents: dict[str, AgentConfig]


# -- Who may do what --------------------------------------------------------------------------


class RoleView(ApiView):
    name: str
    description: str
    allows: list[str] = Field(description="Actions, each 'action' or 'action (approval)'")
    scope: str = Field(description="Teams and services it is limited to; empty: all")


class PolicyView(ApiView):
    source: str
    roles: list[RoleView]
    principals: dict[str, list[str]] = Field(description="Principal, group or wildcard -> "
                                             "its role@scope labels")
    groups: dict[str, list[str]]


class Me(ApiView):
    principal: str
    token_id: str
    token_roles: list[str] = Field(description="The roles the token is narrowed to; empty: "
                                   "all")
    roles: list[str] = Field(description="The roles the principal holds")
    can: dict[str, bool] = Field(description="Each action -> whether the token may run it "
                                 "somewhere (the service checks the scope)")


class CheckResult(ApiView):
    allowed: bool
    principal: str
    action: str
    roles: list[str]
    reason: str
    requires_approval: bool
