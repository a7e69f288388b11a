"""Relays committed outbox rows to JetStream, with ``Nats-Msg-Id`` for broker de-dup."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from opentelemetry.trace import Span, SpanKind, StatusCode
from sqlalchemy import bindparam, delete, func, select

from reasonops_contracts import MSG_ID_HEADER

from . import tracing
from .acks import BatchPublisher, Publication
from .faults import operational
from .metrics import KitMetrics
from .store import OutboxMessage, Store, outbox_table

log = logging.getLogger(__name__)

_SENT = delete(outbox_table).where(
    outbox_table.c.message_id.in_(bindparam("b_message_ids", expanding=True)))
"""Built once, as the unit of work's statements are (``transaction``)."""


class OutboxRelay:
    """Publishes outbox rows and deletes them once JetStream acknowledged each one.

    The handler that committed rows relays them at once; the background sweep only
    takes rows older than ``grace`` (left by a crash or a broker outage). A row
    published twice is dropped by the stream's duplicate window.
    """

    def __init__(self, publisher: BatchPublisher, store: Store, metrics: KitMetrics,
                 *, poll_seconds: float = 0.5, grace: timedelta = timedelta(seconds=5),
                 ack_timeout: float = 10.0) -> None:
        self.publisher = publisher
        self.store = store
        self.metrics = metrics
        self.poll_seconds = poll_seconds
        self.grace = grace
        self.ack_timeout = ack_timeout
        self._lock = asyncio.Lock()
        self._owed = True
        """Whether rows may be waiting: at start (a crash's), after a publish failed, and
        while the last sweep saw a backlog. Else the sweep only looks every ``grace``, for
        rows a stopped replica left."""
        self._swept_at = 0.0

    async def publish(self, messages: Sequence[OutboxMessage]) -> bool:
        """Publish and wait for every ack; delete the rows. False if any publish failed."""
        if not messages:
            return True
        spans = self._send_spans(messages) if tracing.enabled() else None
        try:
            await self.publisher.publish(
                [Publication(m.subject, m.payload, self._headers(m, spans, i))
                 for i, m in enumerate(messages)], timeout=self.ack_timeout)
        except Exception as exc:  # the sweep will retry; the rows are safe in the store
            self._owed = True
            log.warning("outbox publish failed, will retry", extra={"error": repr(exc),
                                                                    "count": len(messages)})
            if spans:
                for span in spans:
                    span.set_status(StatusCode.ERROR, repr(exc))
                    span.end()
            return False
        if spans:
            for span in spans:
                span.end()
        ids = [m.message_id for m in messages]
        async with self.store.transaction() as tx:
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                await tx.session.execute(_SENT, {"b_message_ids": chunk})
        self.metrics.outbox_published.labels(self.metrics.service).inc(len(messages))
        return True

    def _send_spans(self, messages: Sequence[OutboxMessage]) -> list[Span]:
        """One PRODUCER span per event, child of the work that committed it."""
        return [tracing.start_span(f"send {m.subject}", parent=m.trace_context,
                                   kind=SpanKind.PRODUCER, attributes={
                                       tracing.MESSAGING_SYSTEM: "nats",
                                       tracing.MESSAGING_OPERATION_TYPE: "send",
                                       tracing.MESSAGING_OPERATION_NAME: "publish",
                                       tracing.MESSAGING_DESTINATION: m.subject,
                                       tracing.MESSAGING_MESSAGE_ID: m.message_id,
                                       tracing.MESSAGING_BODY_SIZE: len(m.payload),
                                       tracing.SERVICE_ATTRIBUTE: self.metrics.service})
                for m in messages]

    @staticmethod
    def _headers(m: OutboxMessage, spans: list[Span] | None, i: int) -> dict[str, str]:
        headers = {MSG_ID_HEADER: m.message_id}
        parent = (tracing.format_traceparent(spans[i].get_span_context()) if spans
                  else m.trace_context)
        if parent is not None:
            headers[tracing.TRACEPARENT] = parent
        return headers

    async def sweep(self, *, older_than: timedelta | None = None, limit: int = 1000) -> int:
        """Publish rows committed more than ``older_than`` ago; return how many went out."""
        cutoff = datetime.now(UTC) - (self.grace if older_than is None else older_than)
        async with self._lock:
            async with self.store.read() as session:
                rows = (await session.execute(
                    select(outbox_table.c.message_id, outbox_table.c.subject,
                           outbox_table.c.payload, outbox_table.c.trace_context)
                    .where(outbox_table.c.created_at <= cutoff)
                    .order_by(outbox_table.c.seq).limit(limit)
                )).all()
                backlog = (await session.execute(
                    select(func.count()).select_from(outbox_table))).scalar_one()
            self.metrics.outbox_backlog.labels(self.metrics.service).set(backlog)
            self._owed, self._swept_at = backlog > 0, time.monotonic()
            messages = [OutboxMessage(r.message_id, r.subject, r.payload, r.trace_context)
                        for r in rows]
            return len(messages) if await self.publish(messages) else 0

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                idle = time.monotonic() - self._swept_at < self.grace.total_seconds()
                sent = 0 if idle and not self._owed else await self.sweep()
            except Exception as exc:
                self._owed = True
                if not operational(exc):
                    log.exception("outbox sweep failed")
                else:  # the database or broker is away: once a poll, without a traceback
                    log.warning("outbox sweep failed", extra={"error": repr(exc)})
                sent = 0
            if sent == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), self.poll_seconds)

    async def flush(self) -> None:
        """Publish everything still in the outbox (on shutdown)."""
        while await self.sweep(older_than=timedelta(0)):
            pass
