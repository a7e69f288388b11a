"""A ReasonOps service: consumers, responders, timers and HTTP routes around one store.

Each service's ``app.build_service(settings)`` is its composition root: it builds a
``Service``, registers its handlers and returns it; ``lifecycle.run`` connects and serves.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from faststream.nats import NatsBroker
from nats.aio.client import Client
from nats.js import JetStreamContext
from sqlalchemy import MetaData
from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from reasonops_contracts import Command, Envelope, Query, subjects
from reasonops_contracts.deadletter import DiscardDeadLetter, ReplayDeadLetter
from reasonops_contracts.streams import StreamSpec, stream_for

from . import claims, policy_file
from .acks import BatchPublisher
from .authentication import Authentication
from .batch_handler import BatchHandler, ConsumerSpec
from .broker import broker_for
from .clock import Clock, SystemClock
from .consumer import BatchConsumer
from .dead_letter_desk import DeadLetterDesk
from .enforcement import Enforcer
from .http import HttpServer, build_http_app
from .jetstream import ensure_streams, patiently
from .metrics import KitMetrics
from .outbox import OutboxRelay
from .periodic import every
from .policy import Forbidden
from .retention import PRUNE_EVERY_SECONDS, inbox_retention, pruner
from .routing import EventRouter
from .rpc import Responder, add_responder
from .settings import ServiceSettings
from .store import Store, Transaction
from .timers import TimerHandler, TimersHandler, TimerWheel

log = logging.getLogger(__name__)


class Service:
    def __init__(self, name: str, settings: ServiceSettings, *, metadata: tuple[MetaData, ...] = (),
                 clock: Clock | None = None) -> None:
        self.name = name
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.store = Store(settings.db_url(), *metadata, clock=self.clock,
                           sqlite_synchronous=settings.sqlite_synchronous)
        self.metrics = KitMetrics(name)
        self.registry = self.metrics.registry
        self.store.time_statements(self.metrics.db_statements.labels(name).observe)
        self.consumer_specs: list[ConsumerSpec] = []
        self.responders: list[tuple[type[Command] | type[Query], Responder]] = []
        self.timer_handlers: dict[str, TimerHandler] = {}
        self.timers_together: set[str] = set()  # kinds: see ``TimerWheel.together``
        self.timer_batches: dict[str, TimersHandler] = {}  # see ``TimerWheel.batched``
        self.routes: list[BaseRoute] = []
        self.fallback_app: ASGIApp | None = None
        """Answers every path no route matches (the gateway's API and MCP server)."""
        self.startup_hooks: list[Callable[[], Awaitable[None]]] = []
        self.before_consuming: list[Callable[[], Awaitable[None]]] = []
        """Run with the store ready, before the durables are created or reconciled (a
        router may learn event types from the database)."""
        self.shutdown_hooks: list[Callable[[], Awaitable[None]]] = []
        """Run after the drain, before the store closes (close clients the service owns)."""
        self.refreshers: list[tuple[float, Callable[[], Awaitable[None]]]] = []
        self.loops: list[Callable[[asyncio.Event], Awaitable[None]]] = []
        self.broker: NatsBroker | None = None
        self._js: JetStreamContext | None = None
        self.relay: OutboxRelay | None = None
        self._publisher: BatchPublisher | None = None
        self.timers: TimerWheel | None = None
        self.consumers: list[BatchConsumer] = []
        self.stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._http: HttpServer | None = None
        self._stopped = False
        self.authentication: Authentication | None = None

    # -- registration (before start) -------------------------------------------------
    def consume(self, name: str, handler: EventRouter | BatchHandler, *,
                subjects: tuple[str, ...] | None = None, stream: StreamSpec | None = None,
                batch_size: int | None = None, background: bool = False) -> None:
        """Add a durable pull consumer ``name``, shared by this service's replicas."""
        subs = subjects or (handler.subjects if isinstance(handler, EventRouter) else ())
        if not subs:
            raise ValueError(f"consumer {name} has no subjects")
        self.consumer_specs.append(ConsumerSpec(name, stream or stream_for(subs[0]), handler,
                                                tuple(subs), batch_size, background))

    def respond(self, model: type[Command] | type[Query], fn: Responder) -> None:
        self.responders.append((model, self._recording_denials(fn)))

    def _recording_denials(self, fn: Responder) -> Responder:
        """A refused command's ``AccessDenied`` record goes out in a transaction of its own:
        the command's transaction rolled back, the record of the refusal must not."""
        @functools.wraps(fn)
        async def respond(request: Any) -> Any:
            try:
                return await fn(request)
            except Forbidden as exc:
                if exc.denial is not None:
                    await self.record_refusal(exc.denial)
                raise
        return respond

    def on_timer(self, kind: str, fn: TimerHandler, *, together: bool = False) -> None:
        self.timer_handlers[kind] = fn
        if together:
            self.timers_together.add(kind)

    def on_timers(self, kind: str, fn: TimersHandler) -> None:
        """``fn`` gets the due timers of ``kind`` as one list: see ``TimerWheel.batched``."""
        self.timer_batches[kind] = fn

    def refresh_every(self, seconds: float, fn: Callable[[], Awaitable[None]]) -> None:
        """Run ``fn`` every ``seconds`` while the service runs (e.g. gauges read from the
        store, so every replica reports the same truth and a restart loses nothing)."""
        self.refreshers.append((seconds, fn))

    def run_while_serving(self, loop: Callable[[asyncio.Event], Awaitable[None]]) -> None:
        """Run ``loop(stopping)`` once started; it returns when ``stopping`` is set (and
        is drained with the consumers on stop)."""
        self.loops.append(loop)

    # -- runtime ------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """A unit of work outside a consumer (commands, timers): commit, then relay."""
        async with self.store.transaction() as tx:
            yield tx
        if self.relay is not None:
            await self.relay.publish(tx.emitted)

    @property
    def nc(self) -> Client:
        if self.broker is None:
            raise RuntimeError(f"{self.name} is not started")
        return self.broker.connection

    @property
    def publisher(self) -> BatchPublisher:
        """Publishes a batch to JetStream and waits for all its acks (see ``acks``)."""
        if self._publisher is None:
            raise RuntimeError(f"{self.name} is not started")
        return self._publisher

    @property
    def js(self) -> JetStreamContext:
        if self._js is None:
            raise RuntimeError(f"{self.name} is not started")
        return self._js

    async def readiness(self) -> dict[str, bool]:
        return {"broker": self.broker is not None and self.broker._connection is not None
                and self.nc.is_connected, "store": await self.store.ping(),
                "consumers": all(c.started.is_set() for c in self.consumers)}

    @property
    def port(self) -> int:
        """The HTTP port this service listens on (the real one when settings asked for 0)."""
        return self._http.port if self._http is not None else self.port

    async def start(self) -> None:
        """Take the HTTP port first, so a service that cannot serve fails before it
        consumes anything; then the store, the broker, consumers, timers and HTTP."""
        s = self.settings
        retention = inbox_retention((spec.stream for spec in self.consumer_specs),
                                    s.inbox_retention_days)
        self._http = HttpServer(build_http_app(self.name, self.registry, self.readiness,
                                               self.routes, self.fallback_app),
                                s.http_host, s.port())
        self._http.bind()
        if s.db_url().startswith("sqlite"):
            s.data_dir.mkdir(parents=True, exist_ok=True)
        await self.store.ready(self.name, migrate=s.migrate_on_start)
        log.info("connecting to NATS", extra={"nats": s.nats_url_for_logs()})

        self.broker = broker_for(self.name, s)
        self.authentication = door = Authentication.configured(
            self.name, s, answers=bool(self.responders or self.consumer_specs), clock=self.clock,
            record=self.record_refusal)
        for model, fn in self.responders:
            add_responder(self.broker, self.name, self.metrics, model, fn, door)
        if self.consumer_specs:
            self._answer_for_dead_letters(door)
        await self.broker.start()
        if door.signer is not None:
            claims.attach(self.nc, door.signer)
        self._js = self.nc.jetstream(publish_async_max_pending=4000)
        await patiently("streams", lambda: ensure_streams(
            self.js, replicas=s.stream_replicas, audit_retention_days=s.audit_retention_days))
        self._publisher = BatchPublisher(self.nc)
        await self._publisher.start()
        self.relay = OutboxRelay(self.publisher, self.store, self.metrics,
                                 poll_seconds=s.outbox_poll_seconds)
        # Rows in the outbox now were committed by a process that died before relaying
        # them: publish them at once rather than after the sweep's grace period.
        await self.relay.flush()
        for hook in self.before_consuming:
            await hook()
        for spec in self.consumer_specs:
            consumer = BatchConsumer(spec, service=self.name, nc=self.nc, js=self.js,
                                     store=self.store, relay=self.relay, metrics=self.metrics,
                                     batch_size=s.batch_size, fetch_timeout=s.fetch_timeout,
                                     max_deliver=s.max_deliver, ack_wait=s.ack_wait_seconds,
                                     deferred_retry_max=s.deferred_retry_max_seconds,
                                     background_interval=s.background_batch_seconds)
            await consumer.subscribe()
            self.consumers.append(consumer)
        for hook in self.startup_hooks:
            await hook()
        self._spawn(self.relay.run(self.stopping))
        for consumer in self.consumers:
            self._spawn(consumer.run(self.stopping))
        if self.timer_handlers or self.timer_batches:
            self.timers = TimerWheel(self.store, self.relay, self.clock, self.timer_handlers,
                                     self.metrics, poll_seconds=s.timer_poll_seconds,
                                     together=self.timers_together, batched=self.timer_batches)
            self._spawn(self.timers.run(self.stopping))
        self._spawn(every(5.0, self._refresh_lags, self.stopping))
        if retention is not None:
            self._spawn(every(PRUNE_EVERY_SECONDS, pruner(self.store, self.clock, retention),
                              self.stopping))
        for interval, refresh in self.refreshers:
            self._spawn(every(interval, refresh, self.stopping))
        for loop in self.loops:
            self._spawn(loop(self.stopping))
        await self._http.start()
        self.metrics.up.labels(self.name).set(1)
        log.info("service started", extra={"port": self.port, "nats": s.nats_url_for_logs()})

    def _answer_for_dead_letters(self, door: Authentication) -> None:
        """Replays and discards of this service's own dead letters (ADR 0039)."""
        assert self.broker is not None
        desk = DeadLetterDesk(self.name, Enforcer(policy_file.configured(self.settings.policy),
                                                  self.name),
                              lambda: self.nc, lambda: self.consumers, self.transaction,
                              self.clock.now)
        for model, fn in ((ReplayDeadLetter, desk.replay), (DiscardDeadLetter, desk.discard)):
            add_responder(self.broker, self.name, self.metrics, model,
                          self._recording_denials(fn), door,
                          subject=subjects.of_service(model.SUBJECT, self.name))

    async def record_refusal(self, denial: Envelope) -> None:
        """Keep a refusal on record whatever happened to the work it refused."""
        try:
            async with self.transaction() as tx:
                tx.emit(denial)
        except Exception:
            log.exception("could not record a refused request", extra={"denial": denial.id})

    async def stop(self) -> None:
        """Drain: finish in-flight batches, stop HTTP, flush the outbox, close connections."""
        if self._stopped:
            return
        self._stopped = True
        self.metrics.up.labels(self.name).set(0)
        self.stopping.set()
        if self._http is not None:
            await self._http.stop()
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks,
                                            timeout=self.settings.drain_timeout_seconds / 2)
            for task in pending:
                task.cancel()
        if self.relay is not None and self.broker is not None and self.nc.is_connected:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.relay.flush(), 2.0)
        if self._publisher is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._publisher.close(), 1.0)
        if self.broker is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.broker.stop(), 3.0)
        for hook in self.shutdown_hooks:
            try:
                await asyncio.wait_for(hook(), 2.0)
            except Exception as exc:
                log.warning("shutdown hook failed", extra={"error": repr(exc)})
        await self.store.close()
        log.info("service stopped")

    def _spawn(self, coro: Any) -> None:
        self._tasks.append(asyncio.create_task(coro))

    async def _refresh_lags(self) -> None:
        await asyncio.gather(*(c.refresh_lag() for c in self.consumers), return_exceptions=True)

