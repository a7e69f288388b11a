"""What happenings do to a running instance: results, events, timers, approvals, failure.

Pure, like ``engine.py``; each function returns the effects for the shell.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from reasonops_contracts.agents import AgentDecisionRecorded

from . import events
from .definitions import EventMatch
from .domain import ACTIVE, Instance, StepRun
from .engine import (
    ArmTimer,
    Effect,
    Finished,
    Publish,
    StopStep,
    await_event,
    begin,
    complete,
    instance_waits,
    schedule,
)


def succeeded(instance: Instance, step: str, attempt: int, output: dict[str, Any],
              at: datetime) -> list[Effect]:
    """An attempt's result; ignored if that attempt is not the one running."""
    run = _attempt_running(instance, step, attempt)
    if run is None:
        return []
    spec = instance.definition.step(step)
    if spec.kind == "notify" and spec.every is not None and not run.output.get("until_seen"):
        rounds = int(run.output.get("rounds", 0)) + 1
        run.output = {**run.output, **output, "rounds": rounds}
        return [ArmTimer(step, "repeat", attempt, at + timedelta(seconds=spec.every))]
    if spec.kind == "notify":
        output = {**output, "rounds": int(run.output.get("rounds", 0)) + 1}
    return _done(instance, step, {**run.output, **output}, at)


def _attempt_running(instance: Instance, step: str, attempt: int) -> StepRun | None:
    """The step's run if ``attempt`` is the one it waits on; a stale result is ignored."""
    run = instance.steps.get(step)
    if instance.state not in ACTIVE or run is None or run.state != "waiting" \
            or run.attempt != attempt:
        return None
    return run


def _done(instance: Instance, step: str, output: dict[str, Any], at: datetime) -> list[Effect]:
    run = instance.steps[step]
    run.state, run.completed_at, run.output = "completed", at, output
    effects: list[Effect] = [StopStep(step), Publish(events.step_completed(instance, run, at))]
    if instance.state == "compensating":
        return effects + _after_compensation(instance, at)
    return effects + schedule(instance, at)


def failed(instance: Instance, step: str, attempt: int, error: str,
           at: datetime) -> list[Effect]:
    """An attempt failed: retry after the backoff, or fail the step and compensate."""
    run = _attempt_running(instance, step, attempt)
    if run is None:
        return []
    spec = instance.definition.step(step)
    if attempt < spec.retry.attempts:
        delay = spec.retry.backoff * spec.retry.factor ** (attempt - 1)
        retry_at = at + timedelta(seconds=delay)
        run.state, run.error = "retrying", error
        return [StopStep(step), Publish(events.retried(instance, step, attempt, error, retry_at)),
                ArmTimer(step, "retry", attempt + 1, retry_at)]
    run.state, run.completed_at, run.error = "failed", at, error
    effects: list[Effect] = [StopStep(step), Publish(events.step_failed(instance, run, at))]
    if instance.state == "compensating":  # a compensation step failed: nothing more to try
        return effects + _after_compensation(instance, at)
    return effects + _compensate(instance, step, error, at)


def _compensate(instance: Instance, step: str, error: str, at: datetime) -> list[Effect]:
    instance.state, instance.failed_step, instance.error = "compensating", step, error
    effects: list[Effect] = []
    for run in instance.steps.values():
        if run.state in ("waiting", "retrying"):
            run.state, run.completed_at = "cancelled", at
            effects.append(StopStep(run.id))
    effects.append(StopStep(""))
    for comp in instance.definition.step(step).compensate:
        effects += begin(instance, instance.definition.step(comp), 1, at)
    return effects + _after_compensation(instance, at)


def _after_compensation(instance: Instance, at: datetime) -> list[Effect]:
    comps = instance.definition.step(str(instance.failed_step)).compensate
    if any(instance.steps[c].state in ("waiting", "retrying") for c in comps):
        return []
    instance.state, instance.completed_at = "failed", at
    instance.outcome = f"failed at {instance.failed_step}: {instance.error}"
    effects: list[Effect] = []
    if comps:
        effects.append(Publish(events.compensated(instance, comps, at)))
    return [*effects, Publish(events.failed(instance, at)), Finished("failed")]


def timer_fired(instance: Instance, step: str, purpose: str, attempt: int,
                at: datetime) -> list[Effect]:
    run = instance.steps.get(step)
    if instance.state not in ACTIVE or run is None:
        return []
    spec = instance.definition.step(step)
    if purpose == "retry" and run.state == "retrying" and run.attempt == attempt - 1:
        return begin(instance, spec, attempt, at)
    if purpose == "delay":
        return succeeded(instance, step, attempt, {"waited_seconds": spec.for_}, at)
    if purpose == "repeat" and run.state == "waiting" and run.attempt == attempt:
        return begin(instance, spec, attempt, at)[1:]  # same attempt, next round
    if purpose == "timeout" and spec.kind == "approval":
        return decided(instance, step, approved=spec.default == "approve",
                       actor="system:timeout", note="no decision in time", at=at)
    if purpose == "timeout" and _attempt_running(instance, step, attempt) is None:
        return []
    if purpose == "timeout" and spec.on_timeout == "complete":
        return succeeded(instance, step, attempt,
                         {"timed_out": True, "after_seconds": spec.timeout}, at)
    if purpose == "timeout" and spec.on_timeout == "skip":
        return _skip(instance, step, f"timed out after {spec.timeout:g}s",
                     {"timed_out": True}, at)
    if purpose == "timeout":
        return failed(instance, step, attempt, f"timed out after {spec.timeout:g}s", at)
    return []


def _skip(instance: Instance, step: str, reason: str, output: dict[str, Any],
          at: datetime, *, state: str = "skipped") -> list[Effect]:
    """End a step that is no longer wanted (skipped or cancelled, saying why); the rest
    goes on as after a skipped step."""
    run = instance.steps[step]
    run.state, run.completed_at, run.output = state, at, output
    effects: list[Effect] = [StopStep(step), Publish(events.skipped(instance, step, reason, at))]
    if instance.state == "compensating":
        return effects + _after_compensation(instance, at)
    return effects + schedule(instance, at)


def decided(instance: Instance, step: str, *, approved: bool, actor: str, note: str | None,
            at: datetime) -> list[Effect]:
    run = instance.steps[step]
    if instance.state not in ACTIVE or run.state != "waiting":
        return []
    quorum = instance.definition.step(step).quorum
    granted = [str(a) for a in run.output.get("approvals", [])]
    decided = Publish(events.approval_decided(instance, step, approved, actor, note, at))
    if approved and len(granted) + 1 < quorum:  # one vote of several: still waiting
        run.output = {**run.output, "approvals": [*granted, actor]}
        return [decided]
    output = {"approved": approved, "actor": actor, "note": note,
              **({"approvals": [*granted, actor] if approved else granted}
                 if quorum > 1 else {})}
    return [decided, *_done(instance, step, output, at)]


def event_seen(instance: Instance, event_type: str, payload: dict[str, Any],
               at: datetime) -> list[Effect]:
    """An event some waiting step (or the instance's finish) was waiting for."""
    effects: list[Effect] = []
    finish = instance.definition.finish_on
    for spec in instance.definition.steps:
        run = instance.steps[spec.id]
        if run.state != "waiting" or instance.state not in ACTIVE:
            continue
        if spec.kind == "agent" and event_type == AgentDecisionRecorded.TYPE \
                and payload.get("request_id") == run.output.get("request_id"):
            effects += succeeded(instance, spec.id, run.attempt, decision_result(payload), at)
        elif spec.kind == "wait_event" and _matches(instance, EventMatch(
                event=str(spec.event), filter=spec.filter), event_type, payload):
            effects += succeeded(instance, spec.id, run.attempt, payload, at)
        elif spec.kind == "notify" and spec.until is not None \
                and _matches(instance, spec.until, event_type, payload):
            run.output = {**run.output, "until_seen": True}
            effects += _done(instance, spec.id, run.output, at)
    effects += _cancels(instance, event_type, payload, at)
    effects += _resets(instance, event_type, payload, at)
    if finish is not None and instance.state == "running" \
            and _matches(instance, finish, event_type, payload):
        effects += complete(instance, _outcome(instance), at)
    return effects


def _cancels(instance: Instance, event_type: str, payload: dict[str, Any],
             at: datetime) -> list[Effect]:
    """Steps not finished that an event makes pointless are skipped, saying so."""
    effects: list[Effect] = []
    for spec in instance.definition.steps:
        run = instance.steps[spec.id]
        if spec.cancel_on is None or run.state not in ("pending", "waiting", "retrying") \
                or instance.state not in ACTIVE \
                or not _matches(instance, spec.cancel_on, event_type, payload):
            continue
        effects += _skip(instance, spec.id, f"cancelled: {event_type}",
                         {"cancelled_on": event_type}, at, state="cancelled")
    return effects


def _resets(instance: Instance, event_type: str, payload: dict[str, Any],
            at: datetime) -> list[Effect]:
    """Completed (or cancelled) steps that an event undoes wait again, as a new attempt."""
    effects: list[Effect] = []
    for spec in instance.definition.steps:
        run = instance.steps[spec.id]
        undone = run.state == "completed" or (run.state == "cancelled"
                                              and "cancelled_on" in run.output)
        if spec.reset_on is None or not undone or instance.state != "running" \
                or not _matches(instance, spec.reset_on, event_type, payload):
            continue
        run.completed_at, run.output = None, {}
        effects += begin(instance, spec, run.attempt + 1, at)
    return effects


def restarted(instance: Instance, event_type: str, payload: dict[str, Any],
              at: datetime) -> list[Effect]:
    """A completed instance runs again (a ``restart`` trigger): its waits come back and
    every step whose ``reset_on`` matches the event waits again."""
    if instance.state != "completed":
        return []
    instance.state, instance.completed_at, instance.outcome = "running", None, None
    effects: list[Effect] = [Publish(events.restarted(instance, event_type, at)),
                             *instance_waits(instance)]
    return effects + _resets(instance, event_type, payload, at) + schedule(instance, at)


def _outcome(instance: Instance) -> str:
    open_ = [r.id for r in instance.steps.values() if r.state not in ("completed", "skipped")
             and r.id not in instance.definition.compensations()]
    return "closed" if not open_ else "closed; not completed: " + ", ".join(open_)


def _matches(instance: Instance, match: EventMatch, event_type: str,
             payload: dict[str, Any]) -> bool:
    if match.event != event_type:
        return False
    wanted = await_event(instance, "", match).filter
    return all(field_matches(payload.get(k), v) for k, v in wanted.items())


def field_matches(actual: Any, wanted: Any) -> bool:
    """A filter value: a list is "any of"; numbers and their text compare equal."""
    options = wanted if isinstance(wanted, list) else [wanted]
    return any(actual == o or (actual is not None and str(actual) == str(o)) for o in options)


def decision_result(payload: dict[str, Any]) -> dict[str, Any]:
    """The step result of an agent decision: what it decided, and how."""
    output = payload.get("output") or {}
    return {**output, "decision_id": payload.get("decision_id"), "agent": payload.get("agent"),
            "provider": payload.get("provider"), "model": payload.get("model"),
            "prompt_version": payload.get("prompt_version"),
            "latency_ms": payload.get("latency_ms"), "fallback": payload.get("fallback"),
            "summary": payload.get("summary")}
