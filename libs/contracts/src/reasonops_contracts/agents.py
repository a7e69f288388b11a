"""AI agents: requests to agents and the decisions they record."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import Field, model_validator

from . import subjects
from .briefings import BriefingOutput
from .forecasts import SlmOutput
from .ingest import Severity
from .messages import Actor, Event, Query, View

Category = Literal["network", "database", "application", "security", "infrastructure", "storage"]
AgentName = Literal["triage", "rca", "security", "capacity", "slm", "briefing"]
AGENT_NAMES: tuple[AgentName, ...] = ("triage", "rca", "security", "capacity", "slm")
"""The agents that run (each with its provider chain and configuration)."""
DECIDERS: tuple[AgentName, ...] = (*AGENT_NAMES, "briefing")
"""Whose decisions are recorded: the agents and the briefing that combines their views
of an incident (made by the root-cause agent with its chain)."""


class TriageRequested(Event):
    SUBJECT = subjects.AGENT_TRIAGE_REQUESTED

    request_id: str
    workflow_id: str
    incident_id: str
    title: str
    service: str | None = None
    resource: str | None = None
    severity: Severity
    priority: int
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class TriageOutput(View):
    """What the triage agent decides; also the JSON schema a model is asked to fill."""

    category: Category
    assignment_group: str = Field(min_length=1)
    suggested_impact: int = Field(ge=1, le=3)
    suggested_urgency: int = Field(ge=1, le=3)
    suggested_priority: int = Field(ge=1, le=5)
    confidence: float = Field(ge=0, le=1)
    reasons: list[str]
    summary: str


# -- root cause ---------------------------------------------------------------------------

class RcaRequested(Event):
    """Ask for root-cause hypotheses on an incident (the agent also acts on acknowledgement)."""

    SUBJECT = subjects.AGENT_RCA_REQUESTED

    request_id: str
    incident_id: str
    requested_by: str = "system"
    workflow_id: str = ""


class EvidenceRef(View):
    """Where a hypothesis comes from: an alert, a change, a dependency or a past incident."""

    kind: Literal["alert", "change", "dependency_alert", "similar_incident", "incident"]
    ref: str = Field(min_length=1, description="Fingerprint, change id or incident id")
    note: str


class Hypothesis(View):
    cause: str = Field(min_length=1)
    confidence: float = Field(ge=0, le=1)
    evidence: list[EvidenceRef]


class RcaOutput(View):
    hypotheses: list[Hypothesis] = Field(min_length=1, description="Most likely first")
    next_check: str = Field(min_length=1)
    similar_incidents: list[str] = Field(default_factory=list)
    summary: str


# -- security -------------------------------------------------------------------------------

SecurityPattern = Literal["brute_force", "credential_stuffing", "privilege_escalation",
                          "password_spraying", "distributed_brute_force"]
"""``privilege_escalation``: privileges granted from a source that was failing logins;
``password_spraying``: many accounts tried a few times each from one source over an hour;
``distributed_brute_force``: one account failing from many sources."""


class SecurityReviewRequested(Event):
    """Ask the security agent to look at one source (an IP or a host) now."""

    SUBJECT = subjects.AGENT_SECURITY_REQUESTED

    request_id: str
    source: str
    incident_id: str | None = None
    requested_by: str = "system"


class SecurityOutput(View):
    pattern: SecurityPattern | None
    source: str
    failures: int = Field(ge=0)
    accounts: int = Field(ge=0)
    window_seconds: int = Field(gt=0)
    severity: Literal["critical", "error", "warning", "info"]
    recommended_actions: list[Literal["block_source", "force_password_reset", "monitor"]]
    reasons: list[str]
    summary: str


# -- capacity -------------------------------------------------------------------------------

class CapacityRequested(Event):
    """Ask for a forecast for one capacity series (service, resource, metric)."""

    SUBJECT = subjects.AGENT_CAPACITY_REQUESTED

    request_id: str
    series: str = Field(min_length=1, description="The series key the agent reported")
    incident_id: str | None = None
    requested_by: str = "system"


class CapacityOutput(View):
    series: str
    metric: str
    resource: str | None
    points: int = Field(ge=0)
    latest_value: float
    limit: float
    slope_per_hour: float
    exhaustion_at: datetime | None
    hours_to_exhaustion: float | None
    resolution_target_hours: float | None
    suggested_urgency: int = Field(ge=1, le=3)
    reasons: list[str]
    summary: str


# -- every agent ----------------------------------------------------------------------------

class ProviderAttempt(View):
    """One provider tried for a decision, and why the agent moved on if it did."""

    provider: str
    model: str
    outcome: str
    detail: str = ""
    latency_ms: float = 0


AgentOutput = (TriageOutput | RcaOutput | SecurityOutput | CapacityOutput | SlmOutput
               | BriefingOutput)
_OUTPUT_OF: dict[str, type[View]] = {"triage": TriageOutput, "rca": RcaOutput,
                                     "security": SecurityOutput, "capacity": CapacityOutput,
                                     "slm": SlmOutput, "briefing": BriefingOutput}


class AgentDecisionRecorded(Event):
    """A decision by any agent. ``workflow_id`` is empty when no workflow asked for it;
    ``incident_id`` is None for decisions not (yet) tied to an incident."""

    SUBJECT = subjects.AGENT_DECISION

    decision_id: str
    agent: AgentName
    request_id: str
    workflow_id: str = ""
    incident_id: str | None = None
    provider: str
    model: str
    prompt_version: str
    prompt_hash: str = ""
    latency_ms: float
    tokens_in: int = 0
    tokens_out: int = 0
    cost: Decimal = Decimal("0")
    fallback: bool = False
    attempts: list[ProviderAttempt] = Field(default_factory=list)
    redacted: list[str] = Field(default_factory=list,
                                description="Kinds of data redacted before a provider call")
    output: AgentOutput
    summary: str | None = Field(default=None, description="One line for humans and timelines")
    same_as: str | None = Field(default=None, description="The decision this one repeats "
                                "(asked the same about the same incident; no provider asked)")
    decided_at: datetime

    @model_validator(mode="after")
    def _output_matches_agent(self) -> AgentDecisionRecorded:
        expected = _OUTPUT_OF[self.agent]
        if not isinstance(self.output, expected):
            raise ValueError(f"output: a {self.agent} decision carries {expected.__name__}")
        return self


ProposalAction = Literal["block_source", "force_password_reset", "raise_urgency", "escalate",
                         "reassign", "raise_priority", "notify_supplier"]


class AgentProposalRecorded(Event):
    """An action an agent proposes; nothing happens until someone with the right role
    approves it. Agents never change incidents themselves."""

    SUBJECT = subjects.AGENT_PROPOSAL

    proposal_id: str
    decision_id: str
    agent: AgentName
    incident_id: str | None = None
    action: ProposalAction
    target: str = Field(min_length=1, description="IP, account or incident the action is on")
    parameters: dict[str, str] = Field(default_factory=dict)
    reason: str
    requires_approval: bool = True
    proposed_at: datetime


class AgentStatusQuery(Query):
    """Every agent instance answers (scatter-gather): its chain and, if ``probe``, health."""

    SUBJECT = subjects.AGENT_QUERY_STATUS

    actor: Actor = ""  # set by the answering service to the proven principal

    probe: bool = False


class RunTriage(Query):
    """Triage an event someone describes, now: the agent answers with the decision it
    would make (its providers, then the rules). A run changes nothing and is not recorded
    as a decision; it takes ``agent.run``."""

    SUBJECT = subjects.AGENT_QUERY_RUN_TRIAGE

    actor: Actor = ""  # set by the answering service to the proven principal
    incident_id: str = Field(default="", max_length=32)
    title: str = Field(min_length=1, max_length=1024)
    service: str | None = Field(default=None, max_length=256)
    resource: str | None = Field(default=None, max_length=256)
    severity: Severity = "warning"
    priority: int = Field(default=3, ge=1, le=5)
    labels: dict[str, str] = Field(default_factory=dict, max_length=64)


class AgentRun(View):
    """What an agent decided on a run: the decision (provider, model, prompt, output,
    reasons) and the actions it would propose; nothing was applied."""

    decision: AgentDecisionRecorded
    proposals: list[AgentProposalRecorded] = Field(default_factory=list)


class ProviderStatus(View):
    provider: str
    model: str
    external: bool
    circuit: str
    healthy: bool | None = None
    detail: str = ""


class AgentStatus(View):
    agent: AgentName
    instance: str
    chain: str
    prompt_version: str
    providers: list[ProviderStatus]
    pending: int = 0
    given_up: int = Field(default=0, description=(
        "Requests whose decision failed every attempt: kept undecided, not tried again"))
    temperature: float = 0.0
    configured_by: str | None = Field(default=None, description=(
        "Who set the configuration in force (the agents' bucket); None: the settings"))


# -- Configuration, shared by every replica --------------------------------------------------

AGENT_CONFIG_BUCKET = "reasonops-agents"
"""The NATS KV bucket of the agents' configuration: one key per agent. Every replica
watches its key and applies a change at once, without a restart."""


class AgentConfig(View):
    """An agent's provider chain and sampling, as set by a person (the API's
    ``configure-llm``, ``reasonops agents configure``)."""

    chain: str = Field(min_length=1, max_length=512,
                       description="e.g. 'ollama:llama3.1 -> openai:gpt-4o-mini -> rules'")
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    updated_by: str
    updated_at: datetime
