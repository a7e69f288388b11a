"""The service-level agent's forecast of one running SLA clock (its decisions' output)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from .messages import View
from .slm import Agreement, ClockKind

SlmAction = Literal["escalate", "reassign", "raise_priority", "notify_supplier"]


class SlmOutput(View):
    """Whether a clock will breach, by when its work is likely done, and why."""

    clock_id: str
    incident_id: str
    kind: ClockKind
    agreement: Agreement = "sla"
    party: str | None = None
    priority: int = Field(ge=1, le=5)
    deadline: datetime
    predicted_breach: bool
    predicted_done_at: datetime | None = Field(
        default=None, description="When the work is likely done, at the pace measured")
    minutes_left: float
    minutes_needed: float
    progress_percent: float = Field(description="Share of the target already used")
    assignment_group: str | None = None
    queue_ahead: int = Field(ge=0, description="The group's open incidents before this one "
                             "not yet acknowledged (response) or resolved (resolution)")
    working_hours: bool = Field(description="Whether the group works now, as its history "
                                "of met clocks says")
    recommended_actions: list[SlmAction] = Field(default_factory=list)
    reasons: list[str]
    summary: str
