"""What a workflow is while it runs: an instance and its steps' runs, and the outcome of
carrying out one effect. Plain data; the engine decides, the shell and runner persist."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from reasonops_contracts import Event

from .definitions import WorkflowDefinition

ACTIVE = ("running", "compensating")
"""An instance's states while its steps run."""
UNFINISHED = ("queued", *ACTIVE)
"""An instance's states until it completes, fails or is cancelled."""


@dataclass
class StepRun:
    id: str
    state: str = "pending"
    attempt: int = 0
    started_at: datetime | None = None
    completed_at: datetime | None = None
    output: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


@dataclass
class Instance:
    instance_id: str
    definition: WorkflowDefinition
    key: str
    trigger: dict[str, Any]
    correlation_id: str
    started_at: datetime
    updated_at: datetime
    incident_id: str | None = None
    incident_ids: list[str] = field(default_factory=list)
    state: str = "running"
    completed_at: datetime | None = None
    outcome: str | None = None
    error: str | None = None
    failed_step: str | None = None
    steps: dict[str, StepRun] = field(default_factory=dict)

    @property
    def workflow(self) -> str:
        return self.definition.name

    @property
    def version(self) -> int:
        return self.definition.version

    def scope(self) -> tuple[str | None, str | None]:
        """(team, service) the instance is about, for the role policy's scope: the
        trigger's or an earlier step's assignment group and service."""
        team = service = None
        for data in (self.trigger, self.trigger.get("output") or {},
                     *(s.output for s in self.steps.values())):
            if not isinstance(data, dict):
                continue
            team = team or _text(data.get("assignment_group") or data.get("team"))
            service = service or _text(data.get("service"))
        return team, service

    def context(self) -> dict[str, Any]:
        return {"trigger": self.trigger,
                "instance": {"id": self.instance_id, "workflow": self.workflow,
                             "key": self.key, "incident_id": self.incident_id},
                "steps": {s.id: {"state": s.state, "output": s.output, "attempt": s.attempt,
                                 "error": s.error} for s in self.steps.values()}}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


# -- effects the shell carries out -------------------------------------------------------


@dataclass
class Outcome:
    ok: bool
    output: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    events: list[Event] = field(default_factory=list)
    review: dict[str, Any] | None = None
    """A post-incident review to keep, written with the step's result."""
