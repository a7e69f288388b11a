"""Events in (triggers, awaited events, agent decisions and proposals), timers fired,
and the ``WorkflowResumed`` record on start-up."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from reasonops_contracts import Envelope, durables
from reasonops_contracts.agents import AgentProposalRecorded
from reasonops_contracts.registry import EVENTS
from reasonops_contracts.streams import AGENTS, FINANCE, INCIDENTS, SLM, StreamSpec
from reasonops_contracts.workflows import WorkflowResumed
from reasonops_runtime import Clock, EventRouter, Service, Timer, Transaction

from . import effect_store, engine, events, progress, store
from .catalog import Catalog
from .domain import Instance
from .shell import TIMER_KIND, Shell, envelope, filter_values, trigger_matches

CONSUMERS: dict[str, StreamSpec] = {
    durables.ORCHESTRATOR_INCIDENTS: INCIDENTS, durables.ORCHESTRATOR_AGENTS: AGENTS,
    durables.ORCHESTRATOR_SLM: SLM, durables.ORCHESTRATOR_FINANCE: FINANCE}

LOOKBACK = timedelta(minutes=10)
"""How long an awaited event is kept for instances whose trigger arrives later."""

log = logging.getLogger(__name__)


class Orchestrator:
    def __init__(self, catalog: Catalog, clock: Clock, shell: Shell, *,
                 trigger_max_age: timedelta = timedelta(days=1)) -> None:
        self.catalog = catalog
        self.trigger_max_age = trigger_max_age
        """Older triggers start nothing: a first start reads each stream from its
        beginning, and months of past breaches must not all notify again."""
        self.clock = clock
        self.shell = shell
        self.awaited = catalog.awaited()

    def router(self, stream: StreamSpec) -> EventRouter:
        """Every event of ``stream``: the consumer's filter stays the same whatever the
        definitions say, and events nobody waits for cost one indexed lookup."""
        router = EventRouter()
        for model in EVENTS.values():
            if model.SUBJECT in stream.subjects:
                router.on_many(model)(self.on_events)
        return router

    def register(self, service: Service) -> None:
        for name, stream in CONSUMERS.items():
            service.consume(name, self.router(stream), stream=stream)
        service.on_timer(TIMER_KIND, self.on_timer)

    async def on_events(self, tx: Transaction, batch: list[tuple[Envelope, Any]]) -> None:
        await store.serialise(tx.session)
        for cause, event in batch:
            payload = event.model_dump(mode="json")
            if isinstance(event, AgentProposalRecorded):
                await effect_store.add_proposal(tx.session, payload)
            await self._triggers(tx, cause, payload)
            await self._waits(tx, cause, payload)
            if cause.type in self.awaited:
                now = self.clock.now()
                await store.remember(tx.session, cause.id, cause.type, payload, now,
                                     now - LOOKBACK)

    async def _triggers(self, tx: Transaction, cause: Envelope, payload: dict[str, Any]) -> None:
        if self.clock.now() - cause.time > self.trigger_max_age:
            return
        for definition in self.catalog.newest():
            trigger = next((t for t in definition.trigger if t.event == cause.type
                            and trigger_matches(t.filter, payload) and t.accepts(payload)), None)
            if trigger is None or payload.get(trigger.key) in (None, ""):
                continue
            key = str(payload[trigger.key])
            if await store.get(tx.session, definition.instance_id(key)) is not None:
                continue  # one instance per key: a repeat or a second trigger
            instance = engine.new_instance(definition, key=key,
                                           trigger={**payload, "type": cause.type},
                                           correlation_id=cause.correlation_id,
                                           at=self.clock.now())
            running = await store.count_active(tx.session, definition.name)
            limit = definition.max_concurrent
            effects = (engine.queue(instance, running, self.clock.now())
                       if limit is not None and running >= limit
                       else engine.start(instance, self.clock.now()))
            await self.shell.apply(tx, instance, effects, cause, new=True)
            await self._look_back(tx, cause, instance, effects)

    async def _look_back(self, tx: Transaction, cause: Envelope, instance: Instance,
                         effects: list[engine.Effect]) -> None:
        """Events a new instance waits for that came just before its trigger (on another
        stream, say a ledger entry before the breach that caused it)."""
        since = self.clock.now() - LOOKBACK
        for event_type in dict.fromkeys(e.event for e in effects
                                        if isinstance(e, engine.AwaitEvent)):
            for payload in await store.seen_since(tx.session, event_type, since):
                more = progress.event_seen(instance, event_type, payload, self.clock.now())
                if more:
                    await self.shell.apply(tx, instance, more, cause)

    async def _waits(self, tx: Transaction, cause: Envelope, payload: dict[str, Any]) -> None:
        ids = await store.waiting_for(tx.session, cause.type, filter_values(payload))
        for instance in (await store.load(tx.session, ids, lock=True)).values():
            effects = progress.event_seen(instance, cause.type, payload, self.clock.now())
            if effects:
                await self.shell.apply(tx, instance, effects, cause)

    async def on_timer(self, tx: Transaction, timer: Timer) -> None:
        p = timer.payload
        instance = await store.get(tx.session, p["workflow_id"], lock=True)
        if instance is None:
            return
        effects = progress.timer_fired(instance, p["step"], p["purpose"], int(p["attempt"]),
                                       self.clock.now())
        if effects:
            await self.shell.apply(tx, instance, effects, None)

    async def resume(self, service: Service) -> None:
        """Put the gap on record: every instance still running when we start again."""
        now = self.clock.now()
        try:
            async with service.transaction() as tx:
                await store.ensure_mutex(tx.session)
        except IntegrityError:  # another replica made it first
            pass
        async with service.transaction() as tx:
            for instance in await store.find(tx.session, states=engine.ACTIVE, limit=100_000):
                waiting = [r.id for r in instance.steps.values() if r.state == "waiting"]
                event = WorkflowResumed(
                    **events.about(instance), last_progress_at=instance.updated_at,
                    resumed_at=now, waiting_steps=waiting,
                    gap_seconds=max(0.0, (now - instance.updated_at).total_seconds()))
                tx.emit(envelope(instance, None, event, now))
