"""The workflow engine: an instance plus a happening -> the instance changed, and effects.

Pure: no I/O, no clock (``at`` is given). The shell (``runner.py``) persists the
instance and carries out the effects in the transaction of the message that caused
them. Every ready step starts at once, so independent branches run concurrently.
A result is keyed by (step, attempt): one for an attempt no longer running is stale.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from reasonops_contracts.agents import AgentDecisionRecorded
from reasonops_contracts.messages import Event

from . import events, expressions
from .definitions import TRIGGER, EventMatch, StepDef, WorkflowDefinition
from .domain import Instance, StepRun
from .validation import upstream

TERMINAL_STEP = ("completed", "skipped", "failed", "cancelled")


@dataclass(frozen=True)
class Publish:
    event: Event


@dataclass(frozen=True)
class AskAgent:
    step: str
    agent: str
    request_id: str
    args: dict[str, Any]


@dataclass(frozen=True)
class RunEffect:
    """I/O outside the transaction (command, query, notify, apply, review), run once per
    (instance, step, attempt, round) by the effect runner."""

    step: str
    attempt: int
    kind: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class ArmTimer:
    step: str
    purpose: str  # timeout | retry | delay | repeat
    attempt: int
    due_at: datetime


@dataclass(frozen=True)
class AwaitEvent:
    step: str  # "" for the instance's finish_on
    event: str
    filter: dict[str, Any]


@dataclass(frozen=True)
class StopStep:
    """Cancel the step's timers and event waits."""

    step: str


@dataclass(frozen=True)
class Finished:
    state: str


Effect = Publish | AskAgent | RunEffect | ArmTimer | AwaitEvent | StopStep | Finished


def new_instance(definition: WorkflowDefinition, *, key: str, trigger: dict[str, Any],
                 correlation_id: str, at: datetime) -> Instance:
    ids = trigger.get("incident_ids")
    return Instance(
        instance_id=definition.instance_id(key), definition=definition, key=key,
        trigger=trigger, correlation_id=correlation_id, started_at=at, updated_at=at,
        incident_id=trigger.get("incident_id"),
        incident_ids=list(ids) if isinstance(ids, list) else [],
        steps={s.id: StepRun(s.id) for s in definition.steps})


def start(instance: Instance, at: datetime) -> list[Effect]:
    instance.state, instance.started_at = "running", at
    return [Publish(events.started(instance, at)), *instance_waits(instance),
            *schedule(instance, at)]


def instance_waits(instance: Instance) -> list[Effect]:
    """The waits a running instance keeps whatever its steps do: its finish, and each
    step's ``reset_on`` and ``cancel_on``."""
    effects: list[Effect] = []
    if instance.definition.finish_on is not None:
        effects.append(await_event(instance, "", instance.definition.finish_on))
    for spec in instance.definition.steps:
        if spec.reset_on is not None:
            effects.append(await_event(instance, reset_key(spec.id), spec.reset_on))
        if spec.cancel_on is not None:
            effects.append(await_event(instance, cancel_key(spec.id), spec.cancel_on))
    return effects


def reset_key(step: str) -> str:
    """The wait of a step's ``reset_on`` (a step has one wait of each sort)."""
    return f"{step}~reset"


def cancel_key(step: str) -> str:
    """The wait of a step's ``cancel_on``."""
    return f"{step}~cancel"


def queue(instance: Instance, running: int, at: datetime) -> list[Effect]:
    instance.state = "queued"
    return [Publish(events.queued(instance, running, at))]


# -- scheduling ---------------------------------------------------------------------------

def schedule(instance: Instance, at: datetime) -> list[Effect]:
    """Start (or skip) every step whose dependencies are done; repeat until stable."""
    if instance.state != "running":
        return []
    effects: list[Effect] = []
    compensations = instance.definition.compensations()
    progressed = True
    while progressed:
        progressed = False
        for spec in instance.definition.steps:
            run = instance.steps[spec.id]
            if run.state != "pending" or spec.id in compensations:
                continue
            deps = [instance.steps[d] for d in spec.depends_on]
            if any(d.state not in ("completed", "skipped", "cancelled") for d in deps):
                continue
            progressed = True
            reason = _skip_reason(instance, spec, deps)
            if reason is not None:
                run.state, run.completed_at = "skipped", at
                effects.append(Publish(events.skipped(instance, spec.id, reason, at)))
            else:
                effects += begin(instance, spec, 1, at)
    return effects + _maybe_finish(instance, at)


def _skip_reason(instance: Instance, spec: StepDef, deps: list[StepRun]) -> str | None:
    skipped = [d.id for d in deps if d.state in ("skipped", "cancelled")]
    if skipped and not spec.run_if_skipped:
        return f"upstream skipped: {', '.join(skipped)}"
    if spec.when and not expressions.evaluate(expressions.parse(spec.when), instance.context()):
        return f"condition false: {spec.when}"
    return None


def begin(instance: Instance, spec: StepDef, attempt: int, at: datetime) -> list[Effect]:
    """Start one attempt of a step: what it asks for, what it waits on, its timeout."""
    run = instance.steps[spec.id]
    run.state, run.attempt, run.error = "waiting", attempt, None
    run.started_at = run.started_at or at
    ctx = instance.context()
    effects: list[Effect] = [Publish(events.step_started(instance, spec, attempt, at))]
    if spec.timeout is not None:
        effects.append(ArmTimer(spec.id, "timeout", attempt, at + timedelta(seconds=spec.timeout)))
    kind = spec.kind
    if kind == "agent":
        request_id = f"{instance.instance_id}:{spec.id}:{attempt}"
        run.output = {"request_id": request_id}
        effects.append(AwaitEvent(spec.id, AgentDecisionRecorded.TYPE,
                                  {"request_id": request_id}))
        effects.append(AskAgent(spec.id, str(spec.agent), request_id,
                                expressions.render(spec.args, ctx)))
    elif kind == "wait_event":
        effects.append(await_event(instance, spec.id, EventMatch(event=str(spec.event),
                                                            filter=spec.filter)))
    elif kind == "delay":
        effects.append(ArmTimer(spec.id, "delay", attempt,
                                at + timedelta(seconds=spec.for_ or 0)))
    elif kind == "approval":
        effects.append(Publish(events.approval_requested(
            instance, spec, at, str(expressions.render(spec.title, ctx)))))
    else:
        if kind == "notify" and spec.until is not None:
            effects.append(await_event(instance, spec.id, spec.until))
        effects.append(RunEffect(spec.id, attempt, kind, _payload(instance, spec, ctx)))
    return effects


def _payload(instance: Instance, spec: StepDef, ctx: dict[str, Any]) -> dict[str, Any]:
    if spec.kind in ("command", "query"):
        return {"command": spec.command, "args": expressions.render(spec.args, ctx),
                "timeout": spec.timeout or 5.0}
    if spec.kind == "notify":
        round_ = int(instance.steps[spec.id].output.get("rounds", 0)) + 1
        return {"group": spec.group, "title": expressions.render(spec.title, ctx),
                "text": expressions.render(spec.text, ctx), "severity": spec.severity,
                "round": round_}
    if spec.kind == "apply_proposal":
        # The decision is an agent step's, or the one that started the workflow.
        source = instance.trigger if spec.from_ == TRIGGER else \
            instance.steps[str(spec.from_)].output
        approvals = [instance.steps[u] for u in _upstream_approvals(instance, spec)]
        granted = [a.output.get("actor") for a in approvals if a.output.get("approved")]
        return {"decision_id": source.get("decision_id"), "agent": source.get("agent"),
                "approved_by": granted[0] if granted else None,
                "approval_steps": len(approvals)}
    return {"decisions": {s.id: instance.steps[s.id].output for s in instance.definition.steps
                          if s.kind == "agent" and instance.steps[s.id].state == "completed"}}


def _upstream_approvals(instance: Instance, spec: StepDef) -> list[str]:
    return [u for u in sorted(upstream(instance.definition, spec.id))
            if instance.definition.step(u).kind == "approval"]


def await_event(instance: Instance, step: str, match: EventMatch) -> AwaitEvent:
    filter_ = expressions.render(match.filter, instance.context())
    if not filter_:
        trigger = instance.definition.trigger[0]
        if trigger.key in match.model().model_fields:
            filter_ = {trigger.key: instance.key}
    return AwaitEvent(step, match.event, filter_)


def _maybe_finish(instance: Instance, at: datetime) -> list[Effect]:
    if instance.state != "running" or instance.definition.finish_on is not None:
        return []
    compensations = instance.definition.compensations()
    if all(r.state in TERMINAL_STEP for r in instance.steps.values() if r.id not in compensations):
        return complete(instance, "completed", at)
    return []


def complete(instance: Instance, outcome: str, at: datetime) -> list[Effect]:
    instance.state, instance.completed_at, instance.outcome = "completed", at, outcome
    effects: list[Effect] = []
    for run in instance.steps.values():
        if run.state in ("waiting", "retrying", "pending"):  # finished without them
            run.state = "cancelled"
            effects.append(StopStep(run.id))
    return [*effects, StopStep(""), Publish(events.completed(instance, outcome, at)),
            Finished("completed")]
