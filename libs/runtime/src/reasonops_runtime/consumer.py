"""Durable pull consumers that handle a whole batch in one transaction.

Fetch up to N messages -> decode -> one store transaction (inbox + state + outbox)
-> publish the outbox as one batch and wait for every ack -> ack the inputs.
A batch that fails is retried message by message so one poison message cannot
hold back the others; a message that keeps failing goes to the dead-letter subject,
whole, with its headers. A failure that is not the message's (the database is down or
locked, the broker timed out: ``faults``) is retried with back-off for as long as it
lasts and never counts towards that. A parked message replayed (``replay``) is handled
as a batch of one."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

import nats.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig
from opentelemetry.trace import Span, StatusCode

from . import tracing
from .batch_handler import ConsumerSpec, decode, needs_inbox, takes
from .delivery import Delivery, delivery_of
from .durable import durable_config, ensure_durable
from .faults import Failures, operational
from .jetstream import START_PATIENCE_SECONDS
from .metrics import KitMetrics
from .outbox import OutboxRelay
from .parking import park
from .pull import Puller, nak_all
from .routing import Refused
from .store import OutboxMessage, Store
from .transaction import Transaction

log = logging.getLogger(__name__)


class _Deferred:
    """``_commit_batch``'s answer when the environment, not a message, failed."""


DEFERRED = _Deferred()


class BatchConsumer:
    def __init__(self, spec: ConsumerSpec, *, service: str, nc: Client, js: JetStreamContext,
                 store: Store, relay: OutboxRelay, metrics: KitMetrics, batch_size: int,
                 fetch_timeout: float, max_deliver: int, ack_wait: float,
                 deferred_retry_max: float = 30.0, background_interval: float = 0.0) -> None:
        self.spec, self.service, self.nc, self.js = spec, service, nc, js
        self.store, self.relay, self.metrics = store, relay, metrics
        self.batch_size = spec.batch_size or batch_size
        self.fetch_timeout, self.max_deliver, self.ack_wait = fetch_timeout, max_deliver, ack_wait
        self.deferred_retry_max = deferred_retry_max
        self.interval = background_interval if spec.background else 0.0
        self._started_batch = float("-inf")
        self._puller: Puller | None = None
        self.started = asyncio.Event()
        self._failures = Failures()

    def subjects(self) -> list[str]:
        """The subjects to consume: the router's as they are now (a service may add
        event types before it starts consuming), else the spec's."""
        live = getattr(self.spec.handler, "subjects", None)
        return list(live if isinstance(live, tuple) and live else self.spec.subjects)

    def wanted(self) -> ConsumerConfig:
        return durable_config(self.spec.name, self.subjects(), ack_wait=self.ack_wait,
                              batch_size=self.batch_size)

    async def subscribe(self, patience: float = START_PATIENCE_SECONDS) -> None:
        """Create the durable, or bring an existing one in line with this code."""
        await ensure_durable(self.js, self.spec.stream.name, self.wanted(), patience=patience)
        self._puller = Puller(self.nc, self.spec.stream.name, self.spec.name)
        await self._puller.start()
        self.started.set()

    async def run(self, stopping: asyncio.Event) -> None:
        if self._puller is None:
            await self.subscribe()
        ahead: asyncio.Future[list[Msg]] | None = None
        while not stopping.is_set():
            if self._puller is None:
                await asyncio.sleep(0.5)
                await self._resubscribe()
                continue
            try:
                msgs = await (ahead or self._fetch(stopping))
            except (TimeoutError, nats.errors.TimeoutError):
                continue
            except Exception as exc:
                if stopping.is_set():
                    break
                log.warning("fetch failed", extra={"consumer": self.spec.name, "error": repr(exc)})
                await asyncio.sleep(0.5)
                await self._resubscribe()
                continue
            finally:
                ahead = None
            # Ask for the next batch before handling this one: the broker delivers it while
            # this one is committed and its outputs acked, so the loop does not idle for a
            # round trip. One fetch is outstanding at a time; batches are handled in order.
            self._started_batch = time.monotonic()
            ahead = asyncio.ensure_future(self._fetch(stopping))
            try:
                await self.handle_batch(msgs)
            except Exception:
                # Nothing acked: the messages come back after ack_wait.
                log.exception("batch failed", extra={"consumer": self.spec.name})
        if ahead is not None:
            await self._give_back(ahead)
        await self.close()

    async def _fetch(self, stopping: asyncio.Event) -> list[Msg]:
        assert self._puller is not None
        return await self._puller.fetch(self.batch_size, timeout=self.fetch_timeout,
                                        until=self._started_batch + self.interval,
                                        stopping=stopping)

    async def _give_back(self, ahead: asyncio.Future[list[Msg]]) -> None:
        """On the way out, hand a fetched-ahead batch back for immediate redelivery (to a
        replica, or to this service when it returns) instead of after ``ack_wait``."""
        try:
            msgs = await asyncio.wait_for(ahead, self.fetch_timeout + 1.0)
        except Exception:  # nothing came, or the connection is gone: ack_wait frees them
            return
        await nak_all(msgs)

    async def _resubscribe(self) -> None:
        """Bind again (re-creating the durable if it was deleted with its stream)."""
        await self.close()
        try:
            await self.subscribe(patience=0)  # the run loop asks again
        except Exception as exc:  # stream still missing: the next round tries again
            log.warning("resubscribe failed", extra={"consumer": self.spec.name,
                                                     "error": repr(exc)})

    async def close(self) -> None:
        """Stop fetching; messages delivered but never fetched go back at once."""
        if self._puller is not None:
            puller, self._puller = self._puller, None
            with contextlib.suppress(Exception):
                await nak_all(await puller.close())

    async def refresh_lag(self) -> None:
        if self._puller is not None:
            info = await self.js.consumer_info(self.spec.stream.name, self.spec.name)
            self.metrics.pending.labels(self.service, self.spec.name).set(info.num_pending or 0)

    async def handle_batch(self, msgs: list[Msg]) -> None:
        started = time.perf_counter()
        decoded: list[tuple[Msg, Delivery, Any]] = []
        for msg in msgs:
            delivery = delivery_of(msg)
            try:
                delivery, item = decode(self.spec.handler, delivery)
            except ValueError as exc:  # can never succeed: park it now, with the reason
                why = "refused" if isinstance(exc, Refused) else "undecodable"
                await self._dead_letter(msg, delivery, f"{why}: {exc}")
                continue
            decoded.append((msg, delivery, item))
        spans = (tracing.process_spans(decoded, self.service, self.spec.name)
                 if tracing.enabled() else {})
        parents = tracing.trace_parents(decoded, spans)
        try:
            emitted = await self._commit_batch(decoded, parents)
            if isinstance(emitted, list):
                # Outputs are acknowledged by JetStream before the inputs are acked.
                await self.relay.publish(emitted)
                for msg, _, _ in decoded:
                    await msg.ack()
            elif emitted is DEFERRED:
                for msg, _, _ in decoded:
                    await self._defer(msg)
            else:
                await self.relay.publish(await self._commit_one_by_one(decoded, parents, spans))
        finally:
            for span in spans.values():
                span.end()
        self.metrics.batch_seconds.labels(self.service, self.spec.name).observe(
            time.perf_counter() - started)

    async def _commit_batch(self, decoded: list[tuple[Msg, Delivery, Any]],
                            parents: dict[str, str]
                            ) -> list[OutboxMessage] | _Deferred | None:
        if not decoded:
            return []
        if not any(takes(self.spec.handler, item) for _, _, item in decoded):
            # Nothing here for this handler: it would change nothing, so the store is
            # not asked (most of the accepted events an agent watching logins sees).
            self._count("ignored", len(decoded))
            return []
        try:
            async with self.store.transaction() as tx:
                tx.trace_parents.update(parents)
                # Only what needs it is claimed (stateless inputs are made idempotent by
                # their input-derived message ids), whatever else shares the batch.
                handler = self.spec.handler
                claimed = [d.key for _, d, item in decoded
                           if needs_inbox(handler, item) and takes(handler, item)]
                unclaimed = {d.key for _, d, _ in decoded} - set(claimed)
                fresh = (await tx.claim(self.spec.name, claimed) if claimed else set()) | unclaimed
                todo = []
                for _, delivery, item in decoded:
                    if delivery.key in fresh:
                        fresh.discard(delivery.key)  # a duplicate inside one batch runs once
                        todo.append((delivery, item))
                await self.spec.handler(tx, todo)
        except Exception as exc:
            if operational(exc):
                log.warning("batch deferred: the store or broker failed",
                            extra={"consumer": self.spec.name, "error": repr(exc)})
                return DEFERRED
            log.warning("batch rolled back, retrying one by one",
                        extra={"consumer": self.spec.name, "error": repr(exc)})
            return None
        self._count("handled", len(todo))
        self._count("duplicate", len(decoded) - len(todo))
        return tx.emitted

    async def _handle_one(self, tx: Transaction, delivery: Delivery, item: Any) -> bool:
        """Handle one message in ``tx``; False when its inbox had it already."""
        if needs_inbox(self.spec.handler, item) \
                and not await tx.claim(self.spec.name, [delivery.key]):
            return False
        await self.spec.handler(tx, [(delivery, item)])
        return True

    async def replay(self, delivery: Delivery,
                     record: Callable[[Transaction, bool], None]) -> bool:
        """A message this consumer parked, handled with ``record(tx, handled)``."""
        delivery, item = decode(self.spec.handler, delivery)
        async with self.store.transaction() as tx:
            handled = await self._handle_one(tx, delivery, item)
            record(tx, handled)
        await self.relay.publish(tx.emitted)
        self._count("replayed" if handled else "duplicate", 1)
        return handled

    async def _commit_one_by_one(self, decoded: list[tuple[Msg, Delivery, Any]],
                                 parents: dict[str, str], spans: dict[str, Span]
                                 ) -> list[OutboxMessage]:
        emitted: list[OutboxMessage] = []
        for msg, delivery, item in decoded:
            try:
                async with self.store.transaction() as tx:
                    if delivery.key in parents:
                        tx.trace_parents[delivery.key] = parents[delivery.key]
                    handled = await self._handle_one(tx, delivery, item)
                    self._count("handled" if handled else "duplicate", 1)
                emitted.extend(tx.emitted)
                await msg.ack()
                self._failures.forget(delivery.key)
            except Exception as exc:
                if delivery.key in spans:
                    spans[delivery.key].record_exception(exc)
                    spans[delivery.key].set_status(StatusCode.ERROR, repr(exc))
                if operational(exc):
                    log.warning("message deferred: the store or broker failed", extra={
                        "consumer": self.spec.name, "subject": delivery.subject,
                        "error": repr(exc)})
                    await self._defer(msg)
                    continue
                log.exception("message failed", extra={"consumer": self.spec.name,
                                                        "subject": delivery.subject})
                failures = self._failures.add(delivery.key)
                if failures >= self.max_deliver:
                    await self._dead_letter(msg, delivery, repr(exc), failures=failures)
                else:
                    self._count("retried", 1)
                    await msg.nak(delay=min(30.0, 0.5 * 2 ** failures))
        return emitted

    async def _defer(self, msg: Msg) -> None:
        """Back to the stream, to be tried again when the environment may be back."""
        self._count("deferred", 1)
        tries = msg.metadata.num_delivered or 1
        with contextlib.suppress(Exception):  # the broker may be what failed
            await msg.nak(delay=min(self.deferred_retry_max, 2.0 ** min(tries, 5)))

    async def _dead_letter(self, msg: Msg, delivery: Delivery, error: str, *,
                           failures: int = 1) -> None:
        await park(msg, delivery, error, service=self.service, consumer=self.spec.name,
                   failures=failures, nc=self.nc, js=self.js, clock=self.store.clock)
        await msg.ack()
        self._failures.forget(delivery.key)
        self._count("dead_lettered", 1)
        log.error("message dead-lettered", extra={"consumer": self.spec.name,
                                                   "subject": delivery.subject, "error": error})

    def _count(self, outcome: str, n: int) -> None:
        if n:
            self.metrics.messages.labels(self.service, self.spec.name, outcome).inc(n)
