"""Workflow definitions: the YAML format as models. ``validation.py`` parses a file and
checks the graph; ``catalog.py`` reads the files."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from reasonops_contracts import registry
from reasonops_contracts.agents import AgentName
from reasonops_contracts.messages import Command, Event, Query
from reasonops_runtime.durations import parse_duration

from . import expressions

TRIGGER = "trigger"
"""``from: trigger``: an apply_proposal step applies the decision that started it."""

StepKind = Literal["agent", "command", "query", "wait_event", "delay", "notify", "approval",
                   "apply_proposal", "review"]
ROOTS = {"trigger", "steps", "instance"}
STEP_FIELDS = {"state", "output", "attempt", "error"}


class ConfigError(ValueError):
    """A definition file is wrong: which file, which field, and why (one line)."""

    def __init__(self, file: str, field_: str, reason: str) -> None:
        super().__init__(f"{file}: {field_}: {reason}")
        self.file, self.field, self.reason = file, field_, reason


def _event_by_name() -> dict[str, type[Event]]:
    by_name: dict[str, type[Event]] = {m.__name__: m for m in registry.EVENTS.values()}
    return {**by_name, **registry.EVENTS}


def _request_by_name() -> dict[str, type[Command] | type[Query]]:
    models: list[type[Command] | type[Query]] = [*registry.COMMANDS.values(),
                                                 *registry.QUERIES.values()]
    found: dict[str, type[Command] | type[Query]] = {}
    for model in models:
        found[model.__name__] = model
        found[model.SUBJECT] = model
    return found


EVENT_MODELS = _event_by_name()
REQUEST_MODELS = _request_by_name()


def event_model(name: str) -> type[Event]:
    return EVENT_MODELS[name]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _duration(value: Any) -> float | None:
    return None if value is None else parse_duration(value)


class EventMatch(_Strict):
    """An event type and the fields it must have (a list means any of them)."""

    event: str
    filter: dict[str, Any] = Field(default_factory=dict)

    @field_validator("event")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in EVENT_MODELS:
            raise ValueError(f"unknown event {value!r} (use a class name like IncidentOpened "
                             "or a type like itsm.incident.opened.v1)")
        return EVENT_MODELS[value].TYPE

    def model(self) -> type[Event]:
        return EVENT_MODELS[self.event]


class Trigger(EventMatch):
    key: str = "incident_id"
    """The trigger event's field that names the instance: one instance per key."""
    when: str | None = None
    """A condition on ``trigger.*`` beyond the equality filter."""
    restart: bool = False
    """When the instance of this key has completed, run it again (a reopened incident):
    every step whose ``reset_on`` matches this event waits again."""

    def accepts(self, payload: dict[str, Any]) -> bool:
        return not self.when or bool(expressions.evaluate(expressions.parse(self.when),
                                                          {"trigger": payload}))


class Retry(_Strict):
    attempts: int = Field(default=1, ge=1, le=100)
    backoff: float = 5.0
    factor: float = Field(default=2.0, ge=1)

    @field_validator("backoff", mode="before")
    @classmethod
    def _backoff(cls, value: Any) -> float:
        return parse_duration(value)


class StepDef(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_-]*$", max_length=64)
    kind: StepKind
    depends_on: list[str] = Field(default_factory=list)
    when: str | None = None
    run_if_skipped: bool = False
    """Run even when an upstream step was skipped (default: skipped too)."""
    timeout: float | None = None
    retry: Retry = Field(default_factory=Retry)
    compensate: list[str] = Field(default_factory=list)
    agent: AgentName | None = None
    command: str | None = None
    args: dict[str, Any] = Field(default_factory=dict)
    event: str | None = None
    filter: dict[str, Any] = Field(default_factory=dict)
    for_: float | None = Field(default=None, alias="for")
    group: str | None = None
    title: str = ""
    text: str = ""
    severity: Literal["info", "warning", "critical"] = "info"
    every: float | None = None
    until: EventMatch | None = None
    reset_on: EventMatch | None = None
    """wait_event: this event makes a completed (or cancelled) step wait again (a
    reopened incident)."""
    cancel_on: EventMatch | None = None
    """A step not finished when this event comes is cancelled (skipped, with the event
    as its reason): nobody acknowledges an incident that resolved by itself."""
    on_timeout: Literal["fail", "skip", "complete"] = "fail"
    """What a ``timeout`` does: fail the attempt (retries, then compensation), skip the
    step, or complete it with ``{"timed_out": true}`` as its output."""
    default: Literal["approve", "reject"] = "reject"
    quorum: int = Field(default=1, ge=1, le=20)
    """approval: how many different people must approve (a change advisory board); one
    rejection decides."""
    from_: str | None = Field(default=None, alias="from", description=(
        "apply_proposal: the agent step whose decision's proposals are applied, or "
        "'trigger' for the decision that started the workflow"))

    @field_validator("timeout", "for_", "every", mode="before")
    @classmethod
    def _durations(cls, value: Any) -> float | None:
        return _duration(value)

    @field_validator("compensate", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("event")
    @classmethod
    def _known_event(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if value not in EVENT_MODELS:
            raise ValueError(f"unknown event {value!r}")
        return EVENT_MODELS[value].TYPE

    @field_validator("command")
    @classmethod
    def _known_request(cls, value: str | None) -> str | None:
        if value is not None and value not in REQUEST_MODELS:
            raise ValueError(f"unknown command or query {value!r}")
        return value


REQUIRED: dict[str, tuple[str, ...]] = {
    "agent": ("agent",), "command": ("command",), "query": ("command",),
    "wait_event": ("event",), "delay": ("for_",), "notify": ("group",),
    "apply_proposal": ("from_",)}


class WorkflowDefinition(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9-]*$", max_length=64)
    version: int = Field(ge=1)
    description: str = ""
    trigger: list[Trigger]
    finish_on: EventMatch | None = None
    """Without it an instance completes when every step is done; with it, on this event."""
    id_prefix: str | None = None
    max_concurrent: int | None = Field(default=None, ge=1)
    steps: list[StepDef] = Field(min_length=1)

    @field_validator("trigger", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, dict) else value

    def step(self, step_id: str) -> StepDef:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    def compensations(self) -> set[str]:
        return {c for s in self.steps for c in s.compensate}

    def instance_id(self, key: str) -> str:
        return f"{self.id_prefix or self.name}-{key}"


_PARSED: dict[str, WorkflowDefinition] = {}
_DUMPED: dict[int, tuple[WorkflowDefinition, str, dict[str, Any]]] = {}


def digest(raw: dict[str, Any]) -> str:
    """A stored definition's name: the SHA-256 of its JSON with sorted keys. Two files
    that define the same name and version differently get two names."""
    text = json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def definition_of(key: str, raw: dict[str, Any]) -> WorkflowDefinition:
    """The stored definition ``key`` (its digest), parsed once in this process."""
    found = _PARSED.get(key)
    if found is None:
        found = _PARSED[key] = WorkflowDefinition.model_validate(raw)
    return found


def known(key: str) -> WorkflowDefinition | None:
    """The stored definition ``key`` if this process has parsed or dumped it."""
    return _PARSED.get(key)


def dumped(definition: WorkflowDefinition) -> tuple[str, dict[str, Any]]:
    """``definition`` as it is stored, with its digest: dumped once per definition."""
    hit = _DUMPED.get(id(definition))
    if hit is None or hit[0] is not definition:
        raw = definition.model_dump(mode="json", by_alias=True)
        key = digest(raw)
        _PARSED.setdefault(key, definition)
        hit = _DUMPED[id(definition)] = (definition, key, raw)
    return hit[1], hit[2]
