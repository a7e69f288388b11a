"""Workflow definitions and how signals move an instance through them.

Pure: no I/O, no broker, no clock. Handlers translate contract events into
``Signal``s; this module decides which step a signal completes and what follows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Signal(StrEnum):
    """Something that happened, as far as workflows care."""

    INCIDENT_OPENED = "incident_opened"
    TRIAGE_DECIDED = "triage_decided"
    INCIDENT_ACKNOWLEDGED = "incident_acknowledged"
    INCIDENT_RESOLVED = "incident_resolved"
    INCIDENT_REOPENED = "incident_reopened"
    INCIDENT_CLOSED = "incident_closed"


class StepState(StrEnum):
    PENDING = "pending"      # nothing asked yet
    WAITING = "waiting"      # a request is out (an agent is deciding)
    COMPLETED = "completed"
    FAILED = "failed"


class RunState(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


@dataclass(frozen=True)
class StepDef:
    name: str
    completed_by: Signal
    agent: str | None = None
    """The agent asked for this step as soon as the workflow starts."""
    reset_by: frozenset[Signal] = frozenset()
    """Signals that undo the step (a reopened incident is no longer resolved)."""


@dataclass(frozen=True)
class WorkflowDef:
    name: str
    version: int
    started_by: Signal
    completed_by: Signal
    steps: tuple[StepDef, ...]
    id_prefix: str = "WF"

    def instance_id(self, incident_id: str) -> str:
        """One instance per incident: the id doubles as the idempotency key."""
        return f"{self.id_prefix}-{incident_id}"

    def step(self, name: str) -> StepDef:
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(f"{self.name} v{self.version} has no step {name!r}")


INCIDENT_RESPONSE = WorkflowDef(
    name="incident-response",
    version=1,
    started_by=Signal.INCIDENT_OPENED,
    completed_by=Signal.INCIDENT_CLOSED,
    steps=(
        StepDef("triage", Signal.TRIAGE_DECIDED, agent="triage"),
        StepDef("acknowledged", Signal.INCIDENT_ACKNOWLEDGED,
                reset_by=frozenset({Signal.INCIDENT_REOPENED})),
        StepDef("resolved", Signal.INCIDENT_RESOLVED,
                reset_by=frozenset({Signal.INCIDENT_REOPENED})),
    ),
)

DEFINITIONS: dict[tuple[str, int], WorkflowDef] = {
    (INCIDENT_RESPONSE.name, INCIDENT_RESPONSE.version): INCIDENT_RESPONSE,
}


@dataclass
class Step:
    name: str
    state: StepState = StepState.PENDING
    started_at: datetime | None = None
    completed_at: datetime | None = None
    result: dict[str, Any] = field(default_factory=dict)
    request_id: str | None = None
    """The request an agent step waits on; an answer to another request is stale."""


@dataclass
class Workflow:
    workflow_id: str
    workflow: str
    version: int
    incident_id: str
    correlation_id: str
    started_at: datetime
    steps: list[Step]
    state: RunState = RunState.RUNNING
    completed_at: datetime | None = None
    outcome: str | None = None

    @property
    def definition(self) -> WorkflowDef:
        return DEFINITIONS[(self.workflow, self.version)]

    def step(self, name: str) -> Step:
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(f"workflow {self.workflow_id} has no step {name!r}")


@dataclass(frozen=True)
class AgentRequested:
    """Ask ``agent`` to decide ``step``; its answer must carry ``request_id``."""

    step: str
    agent: str
    request_id: str


@dataclass(frozen=True)
class StepCompleted:
    step: str
    result: dict[str, Any]


@dataclass(frozen=True)
class StepReset:
    step: str


@dataclass(frozen=True)
class WorkflowFinished:
    outcome: str


Effect = AgentRequested | StepCompleted | StepReset | WorkflowFinished


def start(definition: WorkflowDef, *, incident_id: str, correlation_id: str, at: datetime,
          new_request_id: Callable[[], str]) -> tuple[Workflow, list[Effect]]:
    """A new running instance; agent steps are asked for at once and wait for the answer."""
    steps: list[Step] = []
    effects: list[Effect] = []
    for spec in definition.steps:
        step = Step(spec.name)
        if spec.agent is not None:
            step.state, step.started_at, step.request_id = StepState.WAITING, at, new_request_id()
            effects.append(AgentRequested(spec.name, spec.agent, step.request_id))
        steps.append(step)
    workflow = Workflow(workflow_id=definition.instance_id(incident_id), workflow=definition.name,
                        version=definition.version, incident_id=incident_id,
                        correlation_id=correlation_id, started_at=at, steps=steps)
    return workflow, effects


def advance(workflow: Workflow, signal: Signal, *, at: datetime,
            result: dict[str, Any] | None = None, request_id: str | None = None
            ) -> list[Effect]:
    """Apply ``signal``; return what changed. A finished workflow ignores everything, and
    a step ignores a repeat of what completed it and answers to requests it never made."""
    if workflow.state is not RunState.RUNNING:
        return []
    definition = workflow.definition
    effects: list[Effect] = []
    for spec in definition.steps:
        step = workflow.step(spec.name)
        if signal in spec.reset_by and step.state is StepState.COMPLETED:
            step.state, step.completed_at, step.result = StepState.PENDING, None, {}
            effects.append(StepReset(step.name))
        elif signal is spec.completed_by and _accepts(step, request_id):
            step.state, step.completed_at, step.result = StepState.COMPLETED, at, dict(result or {})
            step.started_at = step.started_at or at
            effects.append(StepCompleted(step.name, step.result))
    if signal is definition.completed_by:
        workflow.state, workflow.completed_at = RunState.COMPLETED, at
        workflow.outcome = _outcome(workflow)
        effects.append(WorkflowFinished(workflow.outcome))
    return effects


def _accepts(step: Step, request_id: str | None) -> bool:
    if step.state is StepState.COMPLETED:
        return False
    return step.request_id is None or step.request_id == request_id


def _outcome(workflow: Workflow) -> str:
    open_steps = [s.name for s in workflow.steps if s.state is not StepState.COMPLETED]
    if not open_steps:
        return "closed"
    return "closed; not completed: " + ", ".join(open_steps)
