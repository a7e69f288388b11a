"""AI agents: requests to agents and the decisions they record."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from . import subjects
from .ingest import Severity
from .messages import Event, View

Category = Literal["network", "database", "application", "security", "infrastructure", "storage"]


class TriageRequested(Event):
    TYPE = "itsm.agent.triage.requested.v1"
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


class AgentDecisionRecorded(Event):
    TYPE = "itsm.agent.decision.recorded.v1"
    SUBJECT = subjects.AGENT_DECISION

    decision_id: str
    agent: Literal["triage"]
    request_id: str
    workflow_id: str
    incident_id: str
    provider: str
    model: str
    prompt_version: str
    latency_ms: float
    tokens_in: int = 0
    tokens_out: int = 0
    fallback: bool = False
    output: TriageOutput
    summary: str | None = Field(default=None, description="One line for humans and timelines")
    decided_at: datetime
