"""Carries out the engine's effects in a unit of work (``workset.py``): events and agent
requests through the outbox, durable timers, event waits and pending I/O effects, and
the instance itself, all written when the unit of work flushes. Nothing here decides
anything."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from reasonops_contracts import Envelope, Event
from reasonops_contracts.agents import (
    CapacityRequested,
    RcaRequested,
    SecurityReviewRequested,
    TriageRequested,
)
from reasonops_runtime import Clock, Transaction
from reasonops_runtime.store import NewTimer

from . import engine, store
from .definition_store import DefinitionBook
from .domain import Instance
from .engine import (
    ArmTimer,
    AskAgent,
    AwaitEvent,
    Effect,
    Finished,
    Publish,
    RunEffect,
    StopStep,
)
from .progress import failed, field_matches
from .store import WILDCARD
from .workset import Workset

SOURCE = "orchestrator"
TIMER_KIND = "workflow"
PURPOSES = ("timeout", "retry", "delay", "repeat")
_REQUESTS: dict[str, type[Event]] = {"triage": TriageRequested, "rca": RcaRequested,
                                     "security": SecurityReviewRequested,
                                     "capacity": CapacityRequested}

log = logging.getLogger(__name__)


def timer_id(instance_id: str, step: str, purpose: str) -> str:
    return f"wf:{instance_id}:{step}:{purpose}"


def envelope(instance: Instance, cause: Envelope | None, event: Event,
             at: datetime) -> Envelope:
    if cause is not None:
        return cause.caused(event, source=SOURCE, subject=instance.instance_id, time=at)
    return Envelope.wrap(event, source=SOURCE, subject=instance.instance_id,
                         correlation_id=instance.correlation_id, time=at)


def agent_request(instance: Instance, effect: AskAgent) -> Event:
    """The agent's request contract: the trigger's fields it shares, then the step's args."""
    model = _REQUESTS[effect.agent]
    fields = model.model_fields
    data: dict[str, Any] = {k: v for k, v in instance.trigger.items() if k in fields}
    data.update({k: v for k, v in effect.args.items() if v is not None})
    data.update(request_id=effect.request_id)
    if "workflow_id" in fields:
        data["workflow_id"] = instance.instance_id
    if "requested_by" in fields:
        data["requested_by"] = f"workflow:{instance.instance_id}"
    return model.model_validate(data)


Started = Callable[[Workset, Envelope | None, Instance, list[Effect], datetime | None],
                  Awaitable[None]]


class Shell:
    def __init__(self, clock: Clock, observe: Callable[[Event], None] = lambda e: None) -> None:
        self.clock = clock
        self.observe = observe
        self.finished: list[tuple[str, str]] = []
        """(workflow, state) of instances finished in this process (for metrics)."""
        self.wait_fields: dict[str, set[str]] = {}
        """What kept events are stored under (see ``Catalog.wait_fields``)."""
        self.definitions = DefinitionBook()
        """The definitions this service's database holds (each stored once)."""
        self.started: Started | None = None
        """Called for each instance started from the queue, with its start's effects and
        when it was queued (the orchestrator looks back for events it waits for that came
        before it started)."""
        self.effects_owed: Callable[[], None] | None = None
        """Called once a transaction that owes effects has committed (the effect runner
        claims them at once, not at its next look)."""

    def workset(self, tx: Transaction) -> Workset:
        return Workset(tx, self.wait_fields, owed=self.effects_owed,
                       definitions=self.definitions)

    async def apply(self, ws: Workset, instance: Instance, effects: list[Effect],
                    cause: Envelope | None, *, new: bool = False) -> None:
        """Record ``effects`` in the unit of work (``ws.flush`` writes them)."""
        at = self.clock.now()
        instance.updated_at = at
        if new:
            ws.add(instance)
        else:
            ws.changed(instance)
        freed = False
        for effect in effects:
            freed = self._one(ws, instance, effect, cause, at) or freed
        if freed and instance.definition.max_concurrent is not None:
            await self.start_queued(ws, instance.workflow, cause)

    def _one(self, ws: Workset, instance: Instance, effect: Effect, cause: Envelope | None,
             at: datetime) -> bool:
        tx = ws.tx
        if isinstance(effect, Publish):
            tx.emit(envelope(instance, cause, effect.event, at))
            self.observe(effect.event)
        elif isinstance(effect, AskAgent):
            return self._ask(ws, instance, effect, cause, at)
        elif isinstance(effect, AwaitEvent):
            ws.wait(instance.instance_id, effect.step, effect.event, wait_key(effect.filter)[1])
        elif isinstance(effect, ArmTimer):
            ws.arm(instance.instance_id, NewTimer(
                timer_id(instance.instance_id, effect.step, effect.purpose), TIMER_KIND,
                effect.due_at, {"workflow_id": instance.instance_id, "step": effect.step,
                                "purpose": effect.purpose, "attempt": effect.attempt},
                correlation_id=instance.correlation_id,
                causation_id=cause.id if cause else None))
        elif isinstance(effect, RunEffect):
            round_ = effect.payload.get("round", 1)
            ws.owe({"effect_id": f"{instance.instance_id}:{effect.step}:{effect.attempt}:"
                                 f"{round_}",
                    "workflow_id": instance.instance_id, "step": effect.step,
                    "attempt": effect.attempt, "kind": effect.kind,
                    "payload": {**effect.payload, "correlation_id": instance.correlation_id,
                                # The effect runs later, outside this work: it continues
                                # its trace.
                                "traceparent": tx.trace_of(cause.id if cause else None)},
                    "created_at": at})
        elif isinstance(effect, StopStep):
            ws.stop_waiting(instance.instance_id, effect.step)
            for purpose in PURPOSES:
                ws.disarm(instance.instance_id, timer_id(instance.instance_id, effect.step,
                                                         purpose))
        elif isinstance(effect, Finished):
            ws.end_waits(instance.instance_id)
            self.finished.append((instance.workflow, effect.state))
            return True
        return False

    def _ask(self, ws: Workset, instance: Instance, effect: AskAgent, cause: Envelope | None,
             at: datetime) -> bool:
        try:
            request = agent_request(instance, effect)
        except ValueError as exc:  # the trigger and args lack what the agent needs
            run = instance.steps[effect.step]
            more = failed(instance, effect.step, run.attempt,
                          f"cannot ask {effect.agent}: {str(exc).splitlines()[0]}", at)
            freed = False
            for extra in more:
                freed = self._one(ws, instance, extra, cause, at) or freed
            return freed
        ws.tx.emit(envelope(instance, cause, request, at))
        return False

    async def start_queued(self, ws: Workset, workflow: str, cause: Envelope | None) -> None:
        """A slot of a workflow with ``max_concurrent`` freed: start its oldest queued
        instance, if any (the database answers with this unit of work written first)."""
        await ws.flush()
        queued_id = await store.oldest_queued(ws.tx.session, workflow)
        queued = None if queued_id is None else await ws.fetch(queued_id)
        if queued is None or queued.state != "queued":
            return
        limit = queued.definition.max_concurrent
        if limit is not None and await ws.active(workflow) >= limit:
            return
        queued_at = queued.started_at  # when its trigger came; starting sets it to now
        effects = engine.start(queued, self.clock.now())
        await self.apply(ws, queued, effects, cause)
        if self.started is not None:  # its incident may have moved on while it queued
            await self.started(ws, cause, queued, effects, queued_at)


def wait_key(filter_: dict[str, Any]) -> tuple[str, str]:
    """(field, value) a wait on ``filter_`` is stored under: its first single value, or
    ``*`` (any event of the type may satisfy it)."""
    for field, value in filter_.items():
        if not isinstance(value, list | dict):
            return field, str(value)
    return WILDCARD, WILDCARD


def filter_values(payload: dict[str, Any]) -> set[str]:
    """The scalar values of an event, to find the waits it may satisfy."""
    return {str(v) for v in payload.values() if isinstance(v, str | int | float)
            and not isinstance(v, bool)} | {str(x) for v in payload.values()
                                            if isinstance(v, list) for x in v
                                            if isinstance(x, str)}


def trigger_matches(filter_: dict[str, Any], payload: dict[str, Any]) -> bool:
    return all(field_matches(payload.get(k), v) for k, v in filter_.items())
