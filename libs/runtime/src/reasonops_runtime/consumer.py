"""Durable pull consumers that handle a whole batch in one transaction.

Fetch up to N messages -> decode -> one store transaction (inbox + state + outbox)
-> publish the outbox as one batch and wait for every ack -> ack the inputs.
A batch that fails is retried message by message so one poison message cannot
hold back the others; a message that keeps failing goes to the dead-letter subject,
whole, with its headers. A failure that is not the message's (the database is down or
locked, the broker timed out: ``faults``) is retried with back-off for as long as it
lasts and never counts towards that.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import nats.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig
from opentelemetry.trace import Span, StatusCode

from reasonops_contracts import Envelope, subjects
from reasonops_contracts.deadletter import MessageDeadLettered
from reasonops_contracts.streams import StreamSpec

from . import tracing
from .delivery import Delivery, delivery_of
from .durable import durable_config, ensure_durable
from .faults import operational
from .metrics import KitMetrics
from .outbox import OutboxRelay
from .pull import Puller, nak_all
from .routing import Refused
from .store import OutboxMessage, Store, Transaction

log = logging.getLogger(__name__)

_REMEMBERED_FAILURES = 10_000


class _Deferred:
    """``_commit_batch``'s answer when the environment, not a message, failed."""


DEFERRED = _Deferred()


class BatchHandler(Protocol):
    def decode(self, delivery: Delivery) -> Any:
        """Turn a delivery into the handler's item; raise ``ValueError`` if it never can be."""
        ...

    def __call__(self, tx: Transaction, batch: Sequence[tuple[Delivery, Any]]
                 ) -> Awaitable[None]: ...

    # Optional: ``key(item) -> str`` names the inbox key (default: Nats-Msg-Id header,
    # else stream sequence). Envelope handlers return the envelope id, so a message
    # re-published under another transport id is still handled once.
    # Optional: ``needs_inbox(item) -> bool``. False for an item whose handling changes
    # no state and publishes only outputs whose Nats-Msg-Id derives from the input, so
    # the broker stores a redelivery's outputs once; such items claim no inbox rows,
    # whatever shares their batch (a batch of only such items costs the store nothing).


@dataclass
class ConsumerSpec:
    """A durable pull consumer: ``name`` is the durable, shared by a service's replicas."""

    name: str
    stream: StreamSpec
    handler: BatchHandler
    subjects: tuple[str, ...] = field(default=())
    batch_size: int | None = None


class BatchConsumer:
    def __init__(self, spec: ConsumerSpec, *, service: str, nc: Client, js: JetStreamContext,
                 store: Store, relay: OutboxRelay, metrics: KitMetrics, batch_size: int,
                 fetch_timeout: float, max_deliver: int, ack_wait: float,
                 deferred_retry_max: float = 30.0) -> None:
        self.spec = spec
        self.service = service
        self.nc = nc
        self.js = js
        self.store = store
        self.relay = relay
        self.metrics = metrics
        self.batch_size = spec.batch_size or batch_size
        self.fetch_timeout = fetch_timeout
        self.max_deliver = max_deliver
        self.ack_wait = ack_wait
        self.deferred_retry_max = deferred_retry_max
        self._puller: Puller | None = None
        self.started = asyncio.Event()
        # Failures each message caused, by inbox key. In memory: a restart (or another
        # replica) starts counting again, which can only mean more tries, never fewer.
        self._failures: dict[str, int] = {}

    def subjects(self) -> list[str]:
        """The subjects to consume: the router's as they are now (a service may add
        event types before it starts consuming), else the spec's."""
        live = getattr(self.spec.handler, "subjects", None)
        return list(live if isinstance(live, tuple) and live else self.spec.subjects)

    def wanted(self) -> ConsumerConfig:
        return durable_config(self.spec.name, self.subjects(), ack_wait=self.ack_wait,
                              batch_size=self.batch_size)

    async def subscribe(self) -> None:
        """Create the durable, or bring an existing one in line with this code."""
        await ensure_durable(self.js, self.spec.stream.name, self.wanted())
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
                msgs = await (ahead or self._fetch())
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
            # Ask for the next batch before handling this one: the broker delivers it
            # while this batch is decoded, committed and its outputs acked, so the loop
            # does not sit idle for a round trip between batches. One fetch is
            # outstanding at a time, and batches are still handled in order.
            ahead = asyncio.ensure_future(self._fetch())
            try:
                await self.handle_batch(msgs)
            except Exception:
                # Nothing acked: the messages come back after ack_wait.
                log.exception("batch failed", extra={"consumer": self.spec.name})
        if ahead is not None:
            await self._give_back(ahead)
        await self.close()

    async def _fetch(self) -> list[Msg]:
        assert self._puller is not None
        return await self._puller.fetch(self.batch_size, timeout=self.fetch_timeout)

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
            await self.subscribe()
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
        if self._puller is None:
            return
        info = await self.js.consumer_info(self.spec.stream.name, self.spec.name)
        self.metrics.pending.labels(self.service, self.spec.name).set(info.num_pending or 0)

    async def handle_batch(self, msgs: list[Msg]) -> None:
        started = time.perf_counter()
        decoded: list[tuple[Msg, Delivery, Any]] = []
        key_of = getattr(self.spec.handler, "key", None)
        for msg in msgs:
            delivery = delivery_of(msg)
            try:
                item = self.spec.handler.decode(delivery)
            except ValueError as exc:  # can never succeed: park it now, with the reason
                why = "refused" if isinstance(exc, Refused) else "undecodable"
                await self._dead_letter(msg, delivery, f"{why}: {exc}")
                continue
            if key_of is not None:  # e.g. the envelope id, whatever the transport did
                delivery = replace(delivery, key=key_of(item))
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
        try:
            async with self.store.transaction() as tx:
                tx.trace_parents.update(parents)
                # Only what needs it is claimed (stateless inputs are made idempotent by
                # their input-derived message ids), whatever else shares the batch.
                claimed = [d.key for _, d, item in decoded if self._needs_inbox(item)]
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

    def _needs_inbox(self, item: Any) -> bool:
        needs = getattr(self.spec.handler, "needs_inbox", None)
        return needs is None or bool(needs(item))

    async def _commit_one_by_one(self, decoded: list[tuple[Msg, Delivery, Any]],
                                 parents: dict[str, str], spans: dict[str, Span]
                                 ) -> list[OutboxMessage]:
        emitted: list[OutboxMessage] = []
        for msg, delivery, item in decoded:
            try:
                async with self.store.transaction() as tx:
                    if delivery.key in parents:
                        tx.trace_parents[delivery.key] = parents[delivery.key]
                    if (not self._needs_inbox(item)
                            or await tx.claim(self.spec.name, [delivery.key])):
                        await self.spec.handler(tx, [(delivery, item)])
                        self._count("handled", 1)
                    else:
                        self._count("duplicate", 1)
                emitted.extend(tx.emitted)
                await msg.ack()
                self._failures.pop(delivery.key, None)
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
                failures = self._failed(delivery.key)
                if failures >= self.max_deliver:
                    await self._dead_letter(msg, delivery, repr(exc), failures=failures)
                else:
                    self._count("retried", 1)
                    await msg.nak(delay=min(30.0, 0.5 * 2 ** failures))
        return emitted

    def _failed(self, key: str) -> int:
        failures = self._failures.pop(key, 0) + 1
        self._failures[key] = failures  # newest last: the oldest are forgotten first
        while len(self._failures) > _REMEMBERED_FAILURES:
            del self._failures[next(iter(self._failures))]
        return failures

    async def _defer(self, msg: Msg) -> None:
        """Back to the stream, to be tried again when the environment may be back."""
        self._count("deferred", 1)
        tries = msg.metadata.num_delivered or 1
        with contextlib.suppress(Exception):  # the broker may be what failed
            await msg.nak(delay=min(self.deferred_retry_max, 2.0 ** min(tries, 5)))

    async def _dead_letter(self, msg: Msg, delivery: Delivery, error: str, *,
                           failures: int = 1) -> None:
        parked = MessageDeadLettered(
            service=self.service, consumer=self.spec.name, original_subject=delivery.subject,
            stream_sequence=msg.metadata.sequence.stream if msg.metadata.sequence else None,
            deliveries=failures, error=error[:4000], headers=delivery.headers,
            dead_lettered_at=self.store.clock.now(), **MessageDeadLettered.body(delivery.data),
        )
        envelope = self._fitting(parked, delivery)
        await self.js.publish(subjects.dead_letter(self.service), envelope.to_bytes(),
                              headers=envelope.headers())
        await msg.ack()
        self._failures.pop(delivery.key, None)
        self._count("dead_lettered", 1)
        log.error("message dead-lettered", extra={"consumer": self.spec.name,
                                                   "subject": delivery.subject, "error": error})

    def _fitting(self, parked: MessageDeadLettered, delivery: Delivery) -> Envelope:
        """The dead letter's envelope; cut (and marked so) only when the whole message
        and the record around it would exceed what the broker accepts."""
        envelope = Envelope.wrap(parked, source=self.service, subject=delivery.key,
                                 time=parked.dead_lettered_at)
        data = envelope.to_bytes()
        limit = self.nc.max_payload or len(data)
        if len(data) <= limit:
            return envelope
        room = max(0, len(parked.payload or parked.payload_base64 or "") - (len(data) - limit)
                   - 1024)
        cut = parked.model_copy(update={
            "payload": parked.payload[:room],
            "payload_base64": parked.payload_base64[:room] if parked.payload_base64 else None,
            "truncated": True})
        log.error("dead letter cut to fit the broker", extra={
            "consumer": self.spec.name, "bytes": len(delivery.data), "limit": limit})
        return envelope.model_copy(update={"data": cut.model_dump(mode="json")})

    def _count(self, outcome: str, n: int) -> None:
        if n:
            self.metrics.messages.labels(self.service, self.spec.name, outcome).inc(n)
