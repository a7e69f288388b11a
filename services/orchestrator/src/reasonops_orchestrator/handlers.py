"""Events in (triggers, awaited events, agent decisions and proposals), timers fired,
and the ``WorkflowResumed`` record on start-up."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from reasonops_contracts import Envelope, durables
from reasonops_contracts.agents import AgentDecisionRecorded, AgentProposalRecorded
from reasonops_contracts.registry import EVENTS
from reasonops_contracts.streams import AGENTS, CHANGES, FINANCE, INCIDENTS, SLM, StreamSpec
from reasonops_contracts.workflows import WorkflowResumed
from reasonops_runtime import Clock, EventRouter, Service, Timer, Transaction

from . import effect_store, engine, events, progress, store
from .catalog import Catalog, listens_to, waits_of
from .definitions import Trigger, WorkflowDefinition
from .domain import ACTIVE, Instance
from .shell import TIMER_KIND, Shell, envelope, filter_values, trigger_matches, wait_key
from .workset import Workset

CONSUMERS: dict[str, StreamSpec] = {
    durables.ORCHESTRATOR_INCIDENTS: INCIDENTS, durables.ORCHESTRATOR_AGENTS: AGENTS,
    durables.ORCHESTRATOR_SLM: SLM, durables.ORCHESTRATOR_FINANCE: FINANCE,
    durables.ORCHESTRATOR_CHANGES: CHANGES}

LOOKBACK = timedelta(minutes=10)
"""How long an awaited event is kept for instances whose trigger arrives later."""

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Start:
    """An instance an event starts: by which definition and trigger, under which key."""

    definition: WorkflowDefinition
    trigger: Trigger
    key: str

    @property
    def instance_id(self) -> str:
        return self.definition.instance_id(self.key)


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
        """Event types kept a while for instances whose trigger comes later."""
        self.waited = self.awaited | {AgentDecisionRecorded.TYPE}
        """Event types a wait may be on (a step's event, a finish, a reset, an agent's
        decision): other events need no look at the waits."""
        self.wait_fields = catalog.wait_fields()
        shell.wait_fields = self.wait_fields
        shell.started = self._look_back
        self.listening = listens_to(catalog.all())
        self.routers: dict[str, EventRouter] = {}

    def register(self, service: Service) -> None:
        """A durable per stream, filtered to the event types the definitions need (the
        broker skips the rest); the types of definitions that only running instances
        still use are added from the database before the durables are reconciled."""
        self.routers = {name: EventRouter() for name in CONSUMERS}
        self._learn(self.listening)
        self._service = service
        for name, stream in CONSUMERS.items():
            if self.routers[name].subjects:
                service.consume(name, self.routers[name], stream=stream)
        service.before_consuming.append(self.learn_running)
        service.on_timer(TIMER_KIND, self.on_timer, together=True)

    def _learn(self, types: set[str]) -> None:
        for name, stream in CONSUMERS.items():
            router = self.routers[name]
            for model in EVENTS.values():
                if model.TYPE in types and model.SUBJECT in stream.subjects \
                        and model.SUBJECT not in router.subjects:
                    router.on_many(model)(self.on_events)

    async def learn_running(self) -> None:
        """Listen for what the running instances' own definitions (maybe versions no
        longer loaded) wait for, then consume every stream that has something to say."""
        async with self._service.store.read() as session:
            running = await store.running_definitions(session)
        for definition in running:
            self.waited |= {m.event for m in waits_of(definition)}
        consumed = {spec.name for spec in self._service.consumer_specs}
        self._learn(listens_to(running) - {t.event for d in running for t in d.trigger})
        for name, stream in CONSUMERS.items():
            if name not in consumed and self.routers[name].subjects:
                self._service.consume(name, self.routers[name], stream=stream)

    async def on_events(self, tx: Transaction, batch: list[tuple[Envelope, Any]]) -> None:
        """A fetched batch, decided in memory: what it can touch is read first (the
        instances its triggers name, the waits its events may satisfy, kept events under
        its triggers' keys), and everything it changes is written as sets at the end."""
        await store.serialise(tx.session)
        ws = self.shell.workset(tx)
        now = self.clock.now()
        plans: list[tuple[Envelope, dict[str, Any], list[Start]]] = []
        waited: dict[str, set[str]] = {}
        for cause, event in batch:
            payload = event.model_dump(mode="json")
            starts = self._starts(cause, payload, now)
            plans.append((cause, payload, starts))
            if cause.type in self.waited:
                waited.setdefault(cause.type, set()).update(filter_values(payload))
        keys = {start.key for _, _, starts in plans for start in starts}
        await ws.prepare({start.instance_id for _, _, starts in plans for start in starts},
                         waited)
        if keys:
            await ws.preload_recent(keys, now - LOOKBACK)
        for cause, payload, starts in plans:
            if cause.type == AgentProposalRecorded.TYPE:
                await effect_store.add_proposal(tx.session, payload)
            for start in starts:
                await self._start(ws, cause, payload, start)
            if cause.type in self.waited:
                await self._waits(ws, cause, payload)
            if cause.type in self.awaited:
                now = self.clock.now()
                ws.keep(cause.id, cause.type, payload, now, now - LOOKBACK)
        await ws.flush()

    def _starts(self, cause: Envelope, payload: dict[str, Any], now: datetime) -> list[Start]:
        """The instances this event would start (or restart)."""
        if now - cause.time > self.trigger_max_age:
            return []
        found = []
        for definition in self.catalog.newest():
            trigger = next((t for t in definition.trigger if t.event == cause.type
                            and trigger_matches(t.filter, payload) and t.accepts(payload)), None)
            if trigger is not None and payload.get(trigger.key) not in (None, ""):
                found.append(Start(definition, trigger, str(payload[trigger.key])))
        return found

    async def _start(self, ws: Workset, cause: Envelope, payload: dict[str, Any],
                     start: Start) -> None:
        definition, key = start.definition, start.key
        known = ws.known(start.instance_id)
        if known is not None:  # one instance per key: a repeat, a second trigger, a restart
            if start.trigger.restart and known.state == "completed":
                effects = progress.restarted(known, cause.type, payload, self.clock.now())
                await self.shell.apply(ws, known, effects, cause)
            return
        now = self.clock.now()
        instance = engine.new_instance(definition, key=key,
                                       trigger={**payload, "type": cause.type},
                                       correlation_id=cause.correlation_id, at=now)
        limit = definition.max_concurrent
        running = 0 if limit is None else await ws.active(definition.name)
        effects = (engine.queue(instance, running, now) if limit is not None and running >= limit
                   else engine.start(instance, now))
        await self.shell.apply(ws, instance, effects, cause, new=True)
        await self._look_back(ws, cause, instance, effects)

    async def _look_back(self, ws: Workset, cause: Envelope | None, instance: Instance,
                         effects: list[engine.Effect], queued_at: datetime | None = None
                         ) -> None:
        """Events a new instance waits for that came just before its trigger (on another
        stream, say a ledger entry before the breach that caused it); for one started
        from the queue, since just before it queued (its incident resolved meanwhile, say:
        the store keeps such events while it queues)."""
        since = (queued_at or self.clock.now()) - LOOKBACK
        awaits = [e for e in effects if isinstance(e, engine.AwaitEvent)]
        for event_type in dict.fromkeys(e.event for e in awaits if e.event in self.awaited):
            seen: dict[str, tuple[datetime, dict[str, Any]]] = {}
            for effect in awaits:
                if effect.event == event_type:
                    field, value = wait_key(effect.filter)
                    for message_id, at, payload in await ws.recent(event_type, field, value,
                                                                   since):
                        seen.setdefault(message_id, (at, payload))
            for _, payload in sorted(seen.values(), key=lambda found: found[0]):
                more = progress.event_seen(instance, event_type, payload, self.clock.now())
                if more:
                    await self.shell.apply(ws, instance, more, cause)

    async def _waits(self, ws: Workset, cause: Envelope, payload: dict[str, Any]) -> None:
        for instance_id in sorted(ws.waiting(cause.type, filter_values(payload))):
            instance = ws.known(instance_id)
            if instance is None:
                continue
            effects = progress.event_seen(instance, cause.type, payload, self.clock.now())
            if effects:
                await self.shell.apply(ws, instance, effects, cause)

    async def on_timer(self, tx: Transaction, timer: Timer) -> None:
        p = timer.payload
        ws = self.shell.workset(tx)
        instance = await ws.fetch(p["workflow_id"])
        if instance is None:
            return
        effects = progress.timer_fired(instance, p["step"], p["purpose"], int(p["attempt"]),
                                       self.clock.now())
        if effects:
            await self.shell.apply(ws, instance, effects, None)
            await ws.flush()

    async def resume(self, service: Service) -> None:
        """Put the gap on record: every instance still running when we start again."""
        now = self.clock.now()
        try:
            async with service.transaction() as tx:
                await store.ensure_mutex(tx.session)
        except IntegrityError:  # another replica made it first
            pass
        async with service.transaction() as tx:
            for instance in await store.find(tx.session, states=ACTIVE, limit=100_000):
                waiting = [r.id for r in instance.steps.values() if r.state == "waiting"]
                event = WorkflowResumed(
                    **events.about(instance), last_progress_at=instance.updated_at,
                    resumed_at=now, waiting_steps=waiting,
                    gap_seconds=max(0.0, (now - instance.updated_at).total_seconds()))
                tx.emit(envelope(instance, None, event, now))
