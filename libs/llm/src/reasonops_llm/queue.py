"""Agent requests wait in the store; providers are called outside any transaction.

The consumer only records a request (inbox + pending row, one transaction, fast ack).
A worker claims pending rows with a lease, asks the router (seconds, maybe a minute,
over the network), then records the decision and its events in a second transaction
that checks the request is still undecided, so a crash or a second replica never
produces two decisions for one request.

An agent whose decision needs nothing but the request may be served ``inline``: while
its chain asks no provider (the offline rules alone, which answer in microseconds), a
request is decided in the consumer's own transaction, recorded with its inbox claim,
and never waits in the store (ADR 50).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, or_, select, update

from reasonops_contracts import Envelope, Event, new_id
from reasonops_contracts.agents import AgentDecisionRecorded
from reasonops_runtime import Service, Transaction, tracing
from reasonops_runtime.store import OutboxMessage

from .queue_store import counts, decisions, is_known, metadata, pending

__all__ = ["AgentQueue", "Decide", "Decided", "Inline", "Recorded", "metadata"]

log = logging.getLogger(__name__)


@dataclass
class Decided:
    """What one request produced: the decision, events caused by it, raw messages
    (e.g. an alert to ingest, which reads plain payloads)."""

    decision: AgentDecisionRecorded
    events: list[Event] = field(default_factory=list)
    raw: list[OutboxMessage] = field(default_factory=list)
    then: Callable[[], None] | None = None
    """Run once the decision is committed, never for one rolled back (``repeats``)."""


Decide = Callable[[str, dict[str, Any], Envelope], Awaitable[Decided]]
Recorded = Callable[[Decided], None]
Inline = Callable[[], bool]
"""Whether requests are decided in the consumer's transaction now (no provider to ask)."""


class AgentQueue:
    def __init__(self, service: Service, *, source: str, decide: Decide,
                 on_recorded: Recorded | None = None, concurrency: int = 4,
                 poll_seconds: float = 2.0, lease_seconds: float = 300.0,
                 max_attempts: int = 5, claim_size: int = 64,
                 inline: Inline | None = None, retry_seconds: float = 5.0) -> None:
        self.service = service
        self.inline = inline
        self.source = source
        self.decide = decide
        self.on_recorded = on_recorded
        self.concurrency = concurrency
        self.poll_seconds = poll_seconds
        self.lease = timedelta(seconds=lease_seconds)
        self.max_attempts = max_attempts
        self.retry = timedelta(seconds=retry_seconds)
        """A failed decision is tried again after this, doubling with each attempt (at
        most the lease)."""
        # Claimed rows are leased; a round must finish well inside the lease.
        self.claim_size = claim_size
        self.wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._traces: dict[str, str] = {}
        """Request message id -> its traceparent, between deciding and recording."""
        service.startup_hooks.append(self._start)

    async def enqueue(self, tx: Transaction, cause: Envelope, request_id: str, kind: str,
                      payload: dict[str, Any]) -> bool:
        """Record a request inside the consumer's transaction; False if already known."""
        return bool(await self.enqueue_many(tx, [(cause, request_id, kind, payload)]))

    async def enqueue_many(self, tx: Transaction,
                           items: list[tuple[Envelope, str, str, dict[str, Any]]]) -> set[str]:
        """Record requests in bulk (two statements), or decide them now when served
        inline; returns the ids of the requests new to this agent."""
        known = await is_known(tx.session, {request_id for _, request_id, _, _ in items})
        fresh = []
        for item in items:
            if item[1] not in known:
                known.add(item[1])
                fresh.append(item)
        new = {request_id for _, request_id, _, _ in fresh}
        if fresh and self.inline is not None and self.inline():
            fresh = await self._decide_now(tx, fresh)
        if fresh:
            await tx.session.execute(insert(pending), [dict(
                request_id=request_id, kind=kind, payload=payload,
                cause=cause.to_bytes().decode(), enqueued_at=datetime.now(UTC),
                lease_until=None, lease_owner=None, attempts=0,
                trace_context=tx.trace_of(cause.id))
                for cause, request_id, kind, payload in fresh])
            tx.after_commit(self.wake.set)  # claimable from then on
        return new

    async def _decide_now(self, tx: Transaction,
                          items: list[tuple[Envelope, str, str, dict[str, Any]]]
                          ) -> list[tuple[Envelope, str, str, dict[str, Any]]]:
        """Decide requests in ``tx`` and record the decisions there; returns those whose
        decision failed, to be queued and tried again as any request is."""
        done, failed = [], []
        for cause, request_id, kind, payload in items:
            try:
                done.append((request_id, cause, await self._decided(
                    request_id, kind, payload, cause, tx.trace_of(cause.id))))
            except Exception:
                log.exception("agent request failed; queued to be tried again",
                              extra={"request": request_id})
                failed.append((cause, request_id, kind, payload))
        recorded = await self._write(tx, done)
        if recorded:
            tx.after_commit(lambda: self._announce(recorded))
        return failed

    def _announce(self, recorded: list[Decided]) -> None:
        """Once decisions are recorded: each one's ``then``, and ``on_recorded``."""
        for decided in recorded:
            if decided.then is not None:
                decided.then()
            if self.on_recorded is not None:
                self.on_recorded(decided)

    async def waiting(self) -> tuple[int, int]:
        """Requests waiting for a decision, and those given up (``queue_store.counts``)."""
        async with self.service.store.read() as session:
            return await counts(session, self.max_attempts, datetime.now(UTC))

    async def _start(self) -> None:
        self._task = asyncio.create_task(self.run(self.service.stopping))

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            self.wake.clear()  # before claiming: a request committed meanwhile wakes the wait
            try:
                claimed = await self._claim()
                if claimed:
                    if not await self._round(claimed, stopping):
                        await self._release(claimed[0].lease_owner)
                        break
                    continue
            except Exception:
                if stopping.is_set():
                    break
                log.exception("agent queue round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), self.poll_seconds)

    async def _round(self, claimed: list[Any], stopping: asyncio.Event) -> bool:
        """Decide and record one claimed batch; False if the service began to stop first
        (the calls are abandoned, nothing of the round is recorded)."""
        async def work() -> None:
            limit = asyncio.Semaphore(self.concurrency)
            done = await asyncio.gather(*(self._decide(row, limit) for row in claimed))
            recorded = await self._record([d for d in done if d is not None])
            await self._retry_later([row for row, d in zip(claimed, done, strict=True)
                                     if d is None])
            self._announce(recorded)

        task = asyncio.ensure_future(work())
        stop = asyncio.ensure_future(stopping.wait())
        await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        if task.done():
            task.result()
            return True
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return False

    async def _release(self, owner: str) -> None:
        """Give claimed requests back at once, so a restart (or another replica) need
        not wait for the lease to run out."""
        with contextlib.suppress(Exception):
            async with self.service.store.transaction() as tx:
                await tx.session.execute(update(pending).where(pending.c.lease_owner == owner)
                                         .values(lease_until=None, lease_owner=None,
                                                 attempts=pending.c.attempts - 1))
            log.info("agent queue stopped; unfinished requests released")

    async def _claim(self) -> list[Any]:
        """Take up to a batch of requests nobody holds (or whose holder's lease ran out).
        One conditional UPDATE marks them with a fresh owner token, so replicas sharing
        the store never take the same row."""
        now = datetime.now(UTC)
        owner = new_id()
        free = or_(pending.c.lease_until.is_(None), pending.c.lease_until < now)
        async with self.service.store.transaction() as tx:
            candidates = [r.request_id for r in await tx.session.execute(
                select(pending.c.request_id)
                .where(free, pending.c.attempts < self.max_attempts)
                .order_by(pending.c.enqueued_at).limit(self.claim_size))]
            if not candidates:
                return []
            await tx.session.execute(
                update(pending).where(pending.c.request_id.in_(candidates), free)
                .values(lease_until=now + self.lease, lease_owner=owner,
                        attempts=pending.c.attempts + 1))
            return list(await tx.session.execute(
                select(pending).where(pending.c.lease_owner == owner)))

    async def _decide(self, row: Any, limit: asyncio.Semaphore
                      ) -> tuple[str, Envelope, Decided] | None:
        cause = Envelope.from_bytes(row.cause.encode())
        async with limit:
            try:
                decided = await self._decided(row.request_id, row.kind, row.payload, cause,
                                              row.trace_context)
                if row.trace_context:
                    self._traces[cause.id] = row.trace_context
                return row.request_id, cause, decided
            except Exception:
                log.exception("agent request failed", extra={
                    "request": row.request_id, "attempt": row.attempts})
                return None

    async def _decided(self, request_id: str, kind: str, payload: dict[str, Any],
                       cause: Envelope, parent: str | None) -> Decided:
        """``decide``, in a span continuing the request's trace."""
        with tracing.span(f"agent.decide {kind}", parent=parent,
                          attributes={"reasonops.request_id": request_id}):
            return await self.decide(kind, payload, cause)

    async def _retry_later(self, failed: list[Any]) -> None:
        """Give failed requests back, each to be tried again after its back-off rather
        than its whole lease; one out of attempts stays in the store, undecided (the
        agent's status counts it as given up), and is said to be given up."""
        if not failed:
            return
        now = datetime.now(UTC)
        async with self.service.store.transaction() as tx:
            for row in failed:
                if out := row.attempts >= self.max_attempts:
                    log.error("agent request given up", extra={
                        "request": row.request_id, "attempts": row.attempts})
                backoff = min(self.retry * 2 ** (row.attempts - 1), self.lease)
                await tx.session.execute(
                    update(pending).where(pending.c.request_id == row.request_id,
                                          pending.c.lease_owner == row.lease_owner)
                    .values(lease_until=None if out else now + backoff, lease_owner=None))

    async def _record(self, done: list[tuple[str, Envelope, Decided]]) -> list[Decided]:
        """Record a round's decisions in one transaction; a request another replica
        decided meanwhile is dropped, so each request has exactly one decision."""
        if not done:
            return []
        ids = [request_id for request_id, _, _ in done]
        async with self.service.transaction() as tx:
            await tx.session.execute(delete(pending).where(pending.c.request_id.in_(ids)))
            for _, cause, _ in done:
                trace = self._traces.pop(cause.id, None)
                if trace is not None:
                    tx.trace_parents[cause.id] = trace  # the decision continues the request
            return await self._write(tx, done)

    async def _write(self, tx: Transaction, done: list[tuple[str, Envelope, Decided]]
                     ) -> list[Decided]:
        """The decisions and what they caused, in ``tx``; one per request id."""
        if not done:
            return []
        ids = [request_id for request_id, _, _ in done]
        recorded: list[Decided] = []
        already = {r.request_id for r in await tx.session.execute(
            select(decisions.c.request_id).where(decisions.c.request_id.in_(ids)))}
        rows = []
        for request_id, cause, decided in done:
            if request_id in already:
                log.info("request was decided elsewhere", extra={"request": request_id})
                continue
            already.add(request_id)
            d = decided.decision
            rows.append(dict(
                decision_id=d.decision_id, request_id=request_id, agent=d.agent,
                incident_id=d.incident_id, provider=d.provider, model=d.model,
                decision=d.model_dump(mode="json"), decided_at=d.decided_at))
            subject = d.incident_id or request_id
            tx.emit(cause.caused(d, source=self.source, subject=subject))
            for event in decided.events:
                tx.emit(cause.caused(event, source=self.source, subject=subject))
            tx.emitted.extend(decided.raw)
            recorded.append(decided)
        if rows:
            await tx.session.execute(insert(decisions), rows)
        return recorded
