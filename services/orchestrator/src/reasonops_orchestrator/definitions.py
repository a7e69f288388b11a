"""Workflow definitions: the YAML format, validated on load with errors that say where.

Pure: parsing text and checking the graph. ``catalog.py`` reads the files.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from reasonops_contracts import registry
from reasonops_contracts.agents import AgentName
from reasonops_contracts.messages import Command, Event, Query

from . import expressions

StepKind = Literal["agent", "command", "query", "wait_event", "delay", "notify", "approval",
                   "apply_proposal", "review"]
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_ROOTS = {"trigger", "steps", "instance"}
_STEP_FIELDS = {"state", "output", "attempt", "error"}


class ConfigError(ValueError):
    """A definition file is wrong: which file, which field, and why (one line)."""

    def __init__(self, file: str, field_: str, reason: str) -> None:
        super().__init__(f"{file}: {field_}: {reason}")
        self.file, self.field, self.reason = file, field_, reason


def parse_duration(value: Any) -> float:
    """``90`` (seconds), ``500ms``, ``5s``, ``10m``, ``4h``, ``30d`` -> seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and (m := re.fullmatch(r"\s*(\d+(?:\.\d+)?)(ms|s|m|h|d)\s*",
                                                       value)):
        seconds = float(m.group(1)) * _UNITS[m.group(2)]
    else:
        raise ValueError(f"{value!r} is not a duration (e.g. 90, 500ms, 5s, 10m, 4h, 30d)")
    if seconds <= 0:
        raise ValueError("must be longer than zero")
    return seconds


def _event_by_name() -> dict[str, type[Event]]:
    by_name: dict[str, type[Event]] = {m.__name__: m for m in registry.EVENTS.values()}
    return {**by_name, **registry.EVENTS}


def _request_by_name() -> dict[str, type[Command] | type[Query]]:
    found: dict[str, type[Command] | type[Query]] = {}
    for model in [*registry.COMMANDS.values(), *registry.QUERIES.values()]:
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
    default: Literal["approve", "reject"] = "reject"
    from_: str | None = Field(default=None, alias="from")

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


_REQUIRED: dict[str, tuple[str, ...]] = {
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


def parse(text: str, file: str) -> WorkflowDefinition:
    """Validate one file's text; ``ConfigError`` names the file, step and field."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(file, "(file)", f"invalid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise ConfigError(file, "(file)", "expected a mapping with name, version, trigger, steps")
    try:
        definition = WorkflowDefinition.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        message = str(error["msg"]).removeprefix("Value error, ")
        raise ConfigError(file, _where(data, error["loc"]), message) from None
    check(definition, file)
    return definition


def _where(data: dict[str, Any], loc: tuple[Any, ...]) -> str:
    """``steps[2](assign).command`` rather than ``steps.2.command``."""
    out = ""
    for i, part in enumerate(loc):
        if isinstance(part, int):
            out += f"[{part}]"
            if i == 1 and loc[0] == "steps":
                step = (data.get("steps") or [None] * (part + 1))[part]
                if isinstance(step, dict) and "id" in step:
                    out += f"({step['id']})"
        else:
            out += f".{part}" if out else str(part)
    return out or "(file)"


def check(definition: WorkflowDefinition, file: str) -> None:
    """Graph checks the models cannot do alone."""
    ids: set[str] = set()
    for step in definition.steps:
        if step.id in ids:
            raise ConfigError(file, f"steps({step.id}).id", f"duplicate step id {step.id!r}")
        ids.add(step.id)
    for step in definition.steps:
        where = f"steps({step.id})"
        for name in _REQUIRED.get(step.kind, ()):
            if getattr(step, name) is None:
                raise ConfigError(file, f"{where}.{name.rstrip('_')}",
                                  f"a {step.kind} step needs it")
        for field_, refs in (("depends_on", step.depends_on), ("compensate", step.compensate),
                             ("from", [step.from_] if step.from_ else [])):
            for ref in refs:
                if ref not in ids:
                    raise ConfigError(file, f"{where}.{field_}", f"unknown step {ref!r}")
        _check_request(file, where, step)
    _check_cycles(definition, file)
    for step in definition.steps:
        _check_expressions(definition, file, step)
    for trigger in [*definition.trigger, *([definition.finish_on] if definition.finish_on
                                           else [])]:
        _check_filter(file, "trigger", trigger.model(), trigger.filter)
        if not isinstance(trigger, Trigger):
            continue
        if trigger.key not in trigger.model().model_fields:
            raise ConfigError(file, "trigger.key",
                              f"{trigger.model().__name__} has no field {trigger.key!r}")
        if trigger.when:
            try:
                node = expressions.parse(trigger.when)
            except expressions.ExpressionError as exc:
                raise ConfigError(file, "trigger.when", str(exc)) from None
            for path in expressions.paths(node):
                if path.parts[0] != "trigger":
                    raise ConfigError(file, "trigger.when",
                                      f"{'.'.join(path.parts)!r}: only trigger.* is known here")


def _check_request(file: str, where: str, step: StepDef) -> None:
    if step.command is None:
        return
    model = REQUEST_MODELS[step.command]
    wanted = Command if step.kind == "command" else Query
    if not issubclass(model, wanted):
        raise ConfigError(file, f"{where}.command",
                          f"{step.command} is not a {wanted.__name__.lower()}")
    for name in step.args:
        if name not in model.model_fields:
            raise ConfigError(file, f"{where}.args.{name}",
                              f"{model.__name__} has no field {name!r}")


def _check_filter(file: str, where: str, model: type[Event], filter_: dict[str, Any]) -> None:
    for name in filter_:
        if name not in model.model_fields:
            raise ConfigError(file, f"{where}.filter.{name}",
                              f"{model.__name__} has no field {name!r}")


def _check_cycles(definition: WorkflowDefinition, file: str) -> None:
    edges = {s.id: s.depends_on for s in definition.steps}
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> None:
        if node in path:
            cycle = " -> ".join([*path[path.index(node):], node])
            raise ConfigError(file, f"steps({node}).depends_on", f"cycle {cycle}")
        if node in done:
            return
        for dep in edges[node]:
            visit(dep, [*path, node])
        done.add(node)

    for step in definition.steps:
        visit(step.id, [])


def upstream(definition: WorkflowDefinition, step_id: str) -> set[str]:
    found: set[str] = set()
    todo = list(definition.step(step_id).depends_on)
    while todo:
        node = todo.pop()
        if node not in found:
            found.add(node)
            todo.extend(definition.step(node).depends_on)
    return found


def _check_expressions(definition: WorkflowDefinition, file: str, step: StepDef) -> None:
    where = f"steps({step.id})"
    allowed = upstream(definition, step.id)
    if step.id in definition.compensations():
        allowed = {s.id for s in definition.steps if step.id in s.compensate} | {
            u for s in definition.steps if step.id in s.compensate for u in upstream(
                definition, s.id)}
    sources: list[tuple[str, str]] = [(f"{where}.when", step.when)] if step.when else []
    for name in ("args", "filter", "title", "text"):
        sources += [(f"{where}.{name}", e)
                    for e in expressions.template_expressions(getattr(step, name))]
    for field_, text in sources:
        try:
            node = expressions.parse(text)
        except expressions.ExpressionError as exc:
            raise ConfigError(file, field_, str(exc)) from None
        for path in expressions.paths(node):
            _check_path(file, field_, path.parts, allowed)


def _check_path(file: str, field_: str, parts: tuple[str, ...], allowed: set[str]) -> None:
    dotted = ".".join(parts)
    if parts[0] not in _ROOTS:
        raise ConfigError(file, field_, f"{dotted!r}: paths start with trigger, steps or "
                                        "instance")
    if parts[0] != "steps":
        return
    if len(parts) < 3 or parts[2] not in _STEP_FIELDS:
        raise ConfigError(file, field_, f"{dotted!r}: use steps.<id>.state|output|attempt|error")
    if parts[1] not in allowed:
        raise ConfigError(file, field_, f"{dotted!r}: step {parts[1]!r} is not upstream "
                                        "(add it to depends_on)")
