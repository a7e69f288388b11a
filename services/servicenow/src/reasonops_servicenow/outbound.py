"""Incidents out to ServiceNow: a dispatcher with leases.

An incident event asks for a push (a row in ``servicenow_pushes``; a burst of changes is
one push). The dispatcher claims due pushes in a transaction of their own (a lease, the
attempt counted), does their I/O outside any transaction (``writer``: reading the
incident, writing its record, up to ``concurrency`` records at once), and records the
results in one more. A change that came in meanwhile leaves the push due again; a rate
limit or an outage puts it off to ServiceNow's ``Retry-After``; a crash leaves the claim
to run out, and the next claim, seeing an attempt before it, makes no second record and
no second work note.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import timedelta

from nats.aio.client import Client

from reasonops_runtime import Clock, Transaction
from reasonops_runtime.store import Session

from . import events, store
from .failures import Failures
from .inbound import Inbound
from .mapping import FieldMapping
from .metrics import SyncMetrics
from .store import Claim, Link
from .table import TableClient, Unavailable, mod_count
from .writer import Pushed, RecordWriter

log = logging.getLogger(__name__)

RECORD_ATTEMPTS = 5
BATCH_PER_WORKER = 8
"""Pushes claimed at once per worker: claims and results are one transaction each."""
BATCHES = 8
"""Batches in flight at once."""


class Outbound:
    def __init__(self, *, table: TableClient, mapping: FieldMapping, clock: Clock,
                 nc: Callable[[], Client], metrics: SyncMetrics, failures: Failures,
                 inbound: Inbound,
                 transaction: Callable[[], AbstractAsyncContextManager[Transaction]],
                 read: Callable[[], AbstractAsyncContextManager[Session]],
                 owner: str, push_delay: timedelta, concurrency: int = 4,
                 lease: timedelta = timedelta(seconds=60)) -> None:
        self.mapping = mapping
        self.clock = clock
        self.metrics = metrics
        self.failures = failures
        self.inbound = inbound
        self.transaction = transaction
        self.read = read
        self.owner = owner
        self.push_delay = push_delay
        self.concurrency = concurrency
        self.writer = RecordWriter(table=table, mapping=mapping, nc=nc,
                                   concurrency=concurrency)
        self._batches: set[asyncio.Task[None]] = set()
        self.lease = lease

    async def want(self, tx: Transaction, incident_ids: list[str], *,
                   force: bool = False) -> None:
        await store.want_pushes(tx.session, incident_ids, self.clock.now() + self.push_delay,
                                force=force)

    async def run_once(self) -> None:
        """Claim what is due (one transaction) and push it in the background, so the
        next batch does not wait for this one's slowest push: at most ``BATCHES`` at
        once; each records every result in one more transaction."""
        if len(self._batches) >= BATCHES:
            return
        now = self.clock.now()
        async with self.transaction() as tx:
            claims = await store.claim_due(tx.session, now, owner=self.owner,
                                           lease_until=now + self.lease,
                                           limit=self.concurrency * BATCH_PER_WORKER)
            known = await store.of_incidents(tx.session, [c.incident_id for c in claims])
        if claims:
            task = asyncio.create_task(self._batch(claims, known))
            self._batches.add(task)
            task.add_done_callback(self._batches.discard)

    async def _batch(self, claims: list[Claim], known: dict[str, Link]) -> None:
        async def one(claim: Claim) -> Pushed | BaseException | None:
            try:
                return await self.writer.push(claim, known.get(claim.incident_id))
            except Exception as exc:  # put off below; the others go on
                return exc

        done = await asyncio.gather(*(one(c) for c in claims))
        try:
            await self._finish(list(zip(claims, done, strict=True)))
        except Exception:  # the claims run out and are taken again
            log.exception("recording pushes failed", extra={"pushes": len(claims)})

    async def drain(self) -> None:
        """Let the pushes in flight finish and be recorded (on shutdown)."""
        if self._batches:
            await asyncio.wait(set(self._batches), timeout=self.lease.total_seconds() / 2)

    async def push(self, incident_id: str, *, now_or_never: bool = False,
                   want: bool | None = None) -> Link | None:
        """Claim the incident's push (``now_or_never``: whether due or not), do it and
        record it; the link, or None (not synced, or another replica holds it). ``want``
        (force or not) asks for the push in the same transaction as the claim, so no
        dispatcher can take and finish it in between. Raises ``Unavailable`` when
        ServiceNow asked to wait (the push is put off till then)."""
        now = self.clock.now()
        async with self.transaction() as tx:
            if want is not None:
                await store.want_pushes(tx.session, [incident_id], now + self.push_delay,
                                        force=want)
            claim = await store.claim_push(tx.session, incident_id, now, owner=self.owner,
                                           lease_until=now + self.lease,
                                           any_time=now_or_never)
            link = (await store.of_incidents(tx.session, [incident_id])).get(incident_id)
        if claim is None:
            return None
        try:
            pushed: Pushed | BaseException | None = await self.writer.push(claim, link)
        except Exception as exc:
            pushed = exc
        links = await self._finish([(claim, pushed)])
        if isinstance(pushed, BaseException):
            raise pushed
        return links.get(incident_id)

    async def _finish(self, done: list[tuple[Claim, Pushed | BaseException | None]]
                      ) -> dict[str, Link]:
        """Record each push's result and end its claim, in one transaction: a push put
        off is due again after ServiceNow's ``Retry-After`` (other failures: 30 s)."""
        for claim, outcome in done:
            if isinstance(outcome, Unavailable):
                self.metrics.deferred.inc()
                log.info("ServiceNow unavailable; the push is put off", extra={
                    "incident_id": claim.incident_id, "reason": outcome.reason,
                    "retry_after": round(outcome.retry_after, 1)})
            elif isinstance(outcome, BaseException):
                log.error("pushing an incident to ServiceNow failed", exc_info=outcome,
                          extra={"incident_id": claim.incident_id})
        finished = [c for c, outcome in done if not isinstance(outcome, BaseException)]
        pushed = [p for _, p in done if isinstance(p, Pushed)]
        for attempt in range(RECORD_ATTEMPTS):
            try:
                async with self.transaction() as tx:
                    now = self.clock.now()
                    for claim, outcome in done:
                        if isinstance(outcome, BaseException):
                            wait = outcome.retry_after if isinstance(outcome, Unavailable) \
                                else 30.0
                            await store.release_push(tx.session, claim, now + timedelta(
                                seconds=max(1.0, wait)))
                    links = await store.of_incidents(
                        tx.session, [p.view.incident_id for p in pushed], lock=True)
                    for result in pushed:
                        incident_id = result.view.incident_id
                        links[incident_id] = await self._record(
                            tx, result, links.get(incident_id) or Link(incident_id))
                    await store.save_all(tx.session, list(links.values()))
                    await store.finish_pushes(tx.session, finished, now)
                return links
            except Exception as exc:  # a concurrent writer; what was done is not lost yet
                if attempt == RECORD_ATTEMPTS - 1:
                    raise
                log.warning("recording pushes failed; trying again", extra={
                    "pushes": len(done), "error": repr(exc)})
                await asyncio.sleep(0.1 * (attempt + 1))
        raise AssertionError("unreachable")

    async def _record(self, tx: Transaction, pushed: Pushed, link: Link) -> Link:
        """What the push did, onto ``link`` (read afresh; the caller saves it)."""
        view, now = pushed.view, self.clock.now()
        link.service, link.assignment_group = view.service, view.assignment_group
        if pushed.error is not None:
            self.failures.record(tx, link, "outbound", pushed.error.field, str(pushed.error),
                                 now)
            return link
        record = pushed.record
        if pushed.created or pushed.adopted:
            link.sys_id, link.number, link.linked_at = pushed.sys_id, pushed.number, now
            link.remote = {k: str(record.get(k, "")) for k in self.mapping.tracked()
                           if k in record}
            link.mod_count = mod_count(record)
            self.metrics.pushed.labels("create").inc()
            tx.emit(events.created(link, now, adopted=pushed.adopted))
        elif pushed.written or pushed.note:
            for name, value in pushed.written.items():
                link.remote[name] = str(record.get(name, value))
            self.metrics.pushed.labels("update").inc()
            tx.emit(events.updated(link, list(pushed.written), 1 if pushed.note else 0, now))
            if pushed.before >= 0 and mod_count(record) > pushed.before + 1:
                # Someone changed the record in ServiceNow since the sync last read it:
                # what they changed (not what was just written) is theirs to apply.
                await self.inbound.apply(tx, link, record, "poll",
                                         written=set(pushed.written))
            else:
                link.mod_count = max(link.mod_count, mod_count(record))
        link.pushed = dict(pushed.fields)
        link.notes_pushed = max(link.notes_pushed, pushed.notes_upto)
        link.pushed_at = now
        for problem in pushed.problems:
            self.failures.record(tx, link, "outbound", problem.field, problem.problem, now)
        if not pushed.problems:
            link.clear()
        return link
