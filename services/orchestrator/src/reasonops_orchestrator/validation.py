"""Parsing a definition file and the graph checks the models cannot do alone, with
errors naming the file, the step and the field."""

from __future__ import annotations

from typing import Any

import yaml
from pydantic import ValidationError

from reasonops_contracts.agents import AgentDecisionRecorded
from reasonops_contracts.messages import Command, Event, Query

from . import expressions
from .definitions import (
    REQUEST_MODELS,
    REQUIRED,
    ROOTS,
    STEP_FIELDS,
    TRIGGER,
    ConfigError,
    StepDef,
    Trigger,
    WorkflowDefinition,
)


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
        for name in REQUIRED.get(step.kind, ()):
            if getattr(step, name) is None:
                raise ConfigError(file, f"{where}.{name.rstrip('_')}",
                                  f"a {step.kind} step needs it")
        if step.from_ == TRIGGER and any(t.event != AgentDecisionRecorded.TYPE
                                         for t in definition.trigger):
            raise ConfigError(file, f"{where}.from", "'trigger' needs a workflow started "
                              "by an agent's decision (AgentDecisionRecorded)")
        for field_, refs in (("depends_on", step.depends_on), ("compensate", step.compensate),
                             ("from", [step.from_] if step.from_ not in (None, TRIGGER)
                              else [])):
            for ref in refs:
                if ref not in ids:
                    raise ConfigError(file, f"{where}.{field_}", f"unknown step {ref!r}")
        _check_request(file, where, step)
        if step.reset_on is not None and step.kind != "wait_event":
            raise ConfigError(file, f"{where}.reset_on", "only a wait_event step can reset")
        if step.on_timeout != "fail" and step.timeout is None:
            raise ConfigError(file, f"{where}.on_timeout", "needs a timeout")
        if step.on_timeout != "fail" and step.kind == "approval":
            raise ConfigError(file, f"{where}.on_timeout",
                              "an approval decides by its default when it times out")
        for field_, match in (("reset_on", step.reset_on), ("cancel_on", step.cancel_on),
                              ("until", step.until)):
            if match is not None:
                _check_filter(file, f"{where}.{field_}", match.model(), match.filter)
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
    if parts[0] not in ROOTS:
        raise ConfigError(file, field_, f"{dotted!r}: paths start with trigger, steps or "
                                        "instance")
    if parts[0] != "steps":
        return
    if len(parts) < 3 or parts[2] not in STEP_FIELDS:
        raise ConfigError(file, field_, f"{dotted!r}: use steps.<id>.state|output|attempt|error")
    if parts[1] not in allowed:
        raise ConfigError(file, field_, f"{dotted!r}: step {parts[1]!r} is not upstream "
                                        "(add it to depends_on)")
