"""An incident's briefing: every agent's latest view of it in one summary (the output of
the ``briefing`` decisions the root-cause agent records)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from .messages import View

ViewedBy = Literal["triage", "rca", "security", "capacity", "slm"]


class AgentView(View):
    """One agent's latest decision about the incident, and the evidence it gave."""

    agent: ViewedBy
    decision_id: str = Field(min_length=1, description="The decision this view is taken from")
    decided_at: datetime
    provider: str
    summary: str
    evidence: list[str] = Field(default_factory=list)


class BriefingOutput(View):
    """What the agents say together: one summary, where they disagree or warn, what to do
    next, and each view with its evidence (``references``: the decisions combined)."""

    incident_id: str
    summary: str
    views: list[AgentView] = Field(min_length=1)
    references: list[str] = Field(min_length=1, description="The decisions combined")
    suggested_priority: int | None = Field(default=None, ge=1, le=5, description=(
        "The most urgent priority a view asks for, when it is above the incident's"))
    concerns: list[str] = Field(default_factory=list, description=(
        "Where views disagree with each other or with the incident, and warnings"))
    next_steps: list[str] = Field(default_factory=list)
    missing: list[ViewedBy] = Field(default_factory=list,
                                    description="Agents with no view of the incident yet")
