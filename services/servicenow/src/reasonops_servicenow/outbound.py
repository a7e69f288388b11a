"""Incidents out to ServiceNow: a dispatcher with leases.

An incident event asks for a push (a row in ``servicenow_pushes``; a burst of changes is
one push). The dispatcher claims due pushes in a transaction of their own (a lease, the
attempt counted), does the I/O outside any transaction, up to ``concurrency`` at once
(reading the incident, writing its record), and records the result in one more. A change
that came in meanwhile leaves the push due again; a rate limit or an outage puts it off
to ServiceNow's ``Retry-After``; a crash leaves the claim to run out, and the next claim,
seeing an attempt before it, first asks ServiceNow for the incident's record (by
``correlation_id``) and the record's journal for its last work note, so neither is made
twice.

A field is written when ReasonOps' value for it changed, unless ServiceNow holds that
value already (it came from there): changes made in ServiceNow to fields ReasonOps did
not change stay, and nothing applied from ServiceNow is written back (no ping-pong).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from typing import Any

from nats.aio.client import Client
from sqlalchemy.ext.asyncio import AsyncSession

from reasonops_contracts import ReplyError
from reasonops_contracts.incidents import GetIncident, IncidentView
from reasonops_runtime import Clock, Transaction
from reasonops_runtime.client import request

from . import events, store
from .failures import Failures
from .inbound import Inbound
from .mapping import CORRELATION_DISPLAY, NOTE_MARK, FieldMapping, Problem
from .metrics import SyncMetrics
from .store import Claim, Link
from .table import INCIDENT, RECORD_FIELDS, TableClient, TableError, Unavailable, mod_count

log = logging.getLogger(__name__)

PRINCIPAL = "service:servicenow"
"""The sync's own principal: timeline entries it made (from ServiceNow) stay out of the
work notes it writes."""
RECORD_ATTEMPTS = 5
BATCH_PER_WORKER = 8
"""Pushes claimed at once per worker: claims and results are one transaction each."""
BATCHES = 8
"""Batches in flight at once."""


@dataclass
class Pushed:
    """What one push did to the record, recorded on a fresh read of the link."""

    view: IncidentView
    fields: dict[str, str]
    problems: list[Problem]
    notes_upto: int
    sys_id: str | None = None
    number: str | None = None
    created: bool = False
    adopted: bool = False
    written: dict[str, str] = field(default_factory=dict)
    note: bool = False
    record: dict[str, Any] = field(default_factory=dict)
    before: int = -1
    error: TableError | None = None


class Outbound:
    def __init__(self, *, table: TableClient, mapping: FieldMapping, clock: Clock,
                 nc: Callable[[], Client], metrics: SyncMetrics, failures: Failures,
                 inbound: Inbound,
                 transaction: Callable[[], AbstractAsyncContextManager[Transaction]],
                 read: Callable[[], AbstractAsyncContextManager[AsyncSession]],
                 owner: str, push_delay: timedelta, concurrency: int = 4,
                 lease: timedelta = timedelta(seconds=60)) -> None:
        self.table = table
        self.mapping = mapping
        self.clock = clock
        self.nc = nc
        self.metrics = metrics
        self.failures = failures
        self.inbound = inbound
        self.transaction = transaction
        self.read = read
        self.owner = owner
        self.push_delay = push_delay
        self.concurrency = concurrency
        self.gate = asyncio.Semaphore(concurrency)
        """Records written at once, by this replica."""
        self._batches: set[asyncio.Task[None]] = set()
        self.lease = lease
        self.verified: set[str] = set()
        """Records whose journal this process checked for the sync's last work note."""

    async def want(self, tx: Transaction, incident_id: str, *, force: bool = False) -> None:
        await store.want_push(tx.session, incident_id, self.clock.now() + self.push_delay,
                              force=force)

    async def want_many(self, tx: Transaction, incident_ids: list[str]) -> None:
        await store.want_pushes(tx.session, incident_ids, self.clock.now() + self.push_delay)

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
                return await self._push(claim, known.get(claim.incident_id))
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

    async def push(self, incident_id: str, *, now_or_never: bool = False) -> Link | None:
        """Claim the incident's push (``now_or_never``: whether due or not), do it and
        record it; the link, or None (not synced, or another replica holds it). Raises
        ``Unavailable`` when ServiceNow asked to wait (the push is put off till then)."""
        now = self.clock.now()
        async with self.transaction() as tx:
            claim = await store.claim_push(tx.session, incident_id, now, owner=self.owner,
                                           lease_until=now + self.lease,
                                           any_time=now_or_never)
            link = await store.get(tx.session, incident_id)
        if claim is None:
            return None
        try:
            pushed: Pushed | BaseException | None = await self._push(claim, link)
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

    async def _push(self, claim: Claim, known: Link | None) -> Pushed | None:
        """The I/O of one push: read the incident (every push of a batch at once: the
        incident service answers them together), write its record (``concurrency`` at
        once). ``known``: its link when claimed (None: none yet)."""
        incident_id = claim.incident_id
        try:
            view = await request(self.nc(), GetIncident(incident_id=incident_id),
                                 IncidentView)
        except ReplyError as exc:
            if exc.detail.code == "not_found":
                return None
            raise Unavailable(f"the incident service did not answer: {exc}", 5.0) from None
        link = known
        if link is None:
            if not claim.force and not self.mapping.chooses(view):
                return None
            link = Link(incident_id)
        fields, problems = self.mapping.outbound(view)
        notes, upto = self._notes(view, link)
        pushed = Pushed(view, fields, problems, upto)
        uncertain = claim.attempts > 1  # an earlier claim may have reached ServiceNow
        async with self.gate:
            try:
                if link.sys_id is None:
                    await self._create(pushed, notes, uncertain=uncertain)
                else:
                    await self._update(pushed, link, notes, uncertain=uncertain)
            except TableError as exc:
                pushed.error = exc
        return pushed

    def _notes(self, view: IncidentView, link: Link) -> tuple[str, int]:
        """The timeline entries not yet in ServiceNow as one work note (those the sync
        itself made, from ServiceNow's changes, stay out), and how far they reach."""
        upto = len(view.timeline)
        if not self.mapping.spec.work_notes or upto <= link.notes_pushed:
            return "", max(upto, link.notes_pushed)
        lines = [f"{e.at.astimezone(UTC):%Y-%m-%d %H:%M:%S}Z {e.actor} {e.kind}: {e.detail}"
                 for e in view.timeline[link.notes_pushed:] if e.actor != PRINCIPAL]
        if not lines:
            return "", upto
        head = f"{NOTE_MARK}{view.incident_id} #{link.notes_pushed + 1}-{upto}]"
        return "\n".join([head, *lines])[:8000], upto

    async def _create(self, pushed: Pushed, notes: str, *, uncertain: bool) -> None:
        incident_id = pushed.view.incident_id
        found: list[dict[str, Any]] = []
        if uncertain:
            found, _ = await self.table.query(
                INCIDENT, f"correlation_id={incident_id}^correlation_display="
                          f"{CORRELATION_DISPLAY}",
                [*RECORD_FIELDS, *self.mapping.tracked()], limit=1)
        if found:  # made by an attempt that did not live to record it
            record = found[0]
            sys_id = str(record["sys_id"])
            if notes and await self._note_there(sys_id, notes):
                notes = ""
            changed = {k: v for k, v in pushed.fields.items() if str(record.get(k, "")) != v}
            if changed or notes:
                record = await self._write(sys_id, changed, notes)
            pushed.adopted = True
        else:
            try:
                record = await self.table.create(INCIDENT, {
                    **pushed.fields, "correlation_id": incident_id,
                    "correlation_display": CORRELATION_DISPLAY,
                    **({"work_notes": notes} if notes else {})})
            except Unavailable:
                raise  # the next claim looks for the record first (an attempt counted)
            pushed.created = True
        pushed.sys_id, pushed.number = str(record["sys_id"]), str(record.get("number", ""))
        pushed.record = record
        self.verified.add(pushed.sys_id)

    async def _update(self, pushed: Pushed, link: Link, notes: str, *, uncertain: bool
                      ) -> None:
        assert link.sys_id is not None
        changed = {k: v for k, v in pushed.fields.items()
                   if link.pushed.get(k) != v and link.remote.get(k) != v}
        if notes and (uncertain or link.sys_id not in self.verified):
            if await self._note_there(link.sys_id, notes):
                notes = ""
            self.verified.add(link.sys_id)
        pushed.sys_id, pushed.number, pushed.before = link.sys_id, link.number, link.mod_count
        if not changed and not notes:
            return
        pushed.record = await self._write(link.sys_id, changed, notes)
        pushed.written, pushed.note = changed, bool(notes)

    async def _write(self, sys_id: str, changed: dict[str, str], notes: str
                     ) -> dict[str, Any]:
        try:
            return await self.table.update(INCIDENT, sys_id, {
                **changed, **({"work_notes": notes} if notes else {})}, idempotent=not notes)
        except Unavailable:
            self.verified.discard(sys_id)  # the note may have landed: look first
            raise

    async def _note_there(self, sys_id: str, notes: str) -> bool:
        """Whether the record's journal holds this note already (by its mark)."""
        head = notes.split("\n", 1)[0]
        return any(str(n.get("value", "")).startswith(head)
                   for n in await self.table.journal(sys_id))

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
