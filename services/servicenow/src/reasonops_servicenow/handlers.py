"""Keeping incidents and their ServiceNow records in step, both ways.

Out: every incident event arms one durable push timer for its incident (a burst of
events is one push). The push reads the incident, chooses it by the mapping's rules
(once chosen, always kept), and writes to ServiceNow only the mapped fields that differ
from what ServiceNow last had, with the new timeline entries as one work note. A record
is created once: before creating, the sync asks ServiceNow for a record with the
incident's ``correlation_id`` (an earlier attempt may have made it before a crash), and
the first work note a process writes to a record is checked against the record's journal
(each note carries a ``[ReasonOps INC... #from-to]`` mark), so a restart mid-sync neither
loses nor repeats one.

Back: a poll timer reads the records updated since a watermark (``sys_updated_on``), and
ServiceNow's Business Rule may call the inbound endpoint to have one record read at
once. A record whose ``sys_mod_count`` is not beyond the last the sync knows of (its own
write, most often) is skipped; otherwise each inbound field that differs from what
ServiceNow last had becomes a command on the incident (state changes along the lifecycle,
assignment, impact and urgency; work notes not marked as ReasonOps' own as comments),
sent as the sync's own principal. The changes it causes come back as events and find
ServiceNow already holding those values, so nothing is written back: no ping-pong.

ServiceNow rate limits and outages delay a push (its timer is re-armed after
``Retry-After``), never drop it; a refusal (4xx) or a mapping error is kept on the link
and published with the field and the incident.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from nats.aio.client import Client
from sqlalchemy import select

from reasonops_contracts import Envelope, ReplyError
from reasonops_contracts.incidents import (
    AcknowledgeIncident,
    AssignIncident,
    ChangeIncidentPriority,
    CloseIncident,
    CommentIncident,
    GetIncident,
    HoldIncident,
    IncidentAcknowledged,
    IncidentAssigned,
    IncidentClosed,
    IncidentCommented,
    IncidentHeld,
    IncidentMajorDeclared,
    IncidentOpened,
    IncidentPriorityChanged,
    IncidentReopened,
    IncidentResolved,
    IncidentResumed,
    IncidentView,
    ReopenIncident,
    ResolveIncident,
    ResumeIncident,
)
from reasonops_contracts.servicenow import Direction
from reasonops_runtime import Clock, EventRouter, Timer, Transaction
from reasonops_runtime.client import request
from reasonops_runtime.tables import timers_table

from . import events, store
from .mapping import CORRELATION_DISPLAY, FieldMapping
from .metrics import SyncMetrics
from .store import Link
from .table import INCIDENT, JOURNAL, TableClient, TableError, Unavailable

log = logging.getLogger(__name__)

PRINCIPAL = "service:servicenow"
PUSH_TIMER = "servicenow.push"
PULL_TIMER = "servicenow.pull"
POLL_TIMER = "servicenow.poll"
POLL_ID = "servicenow:poll"
MARK = "[ReasonOps "
RECORD = ("sys_id", "number", "sys_mod_count", "sys_updated_on", "sys_updated_by",
          "correlation_id")
PAGE = 100
PAGES_PER_POLL = 10
SN_TIME = "%Y-%m-%d %H:%M:%S"


def push_id(incident_id: str) -> str:
    return f"servicenow:push:{incident_id}"


def pull_id(sys_id: str) -> str:
    return f"servicenow:pull:{sys_id}"


def sn_time(at: datetime) -> str:
    """A time as ServiceNow's API writes ``sys_updated_on`` (UTC)."""
    return at.astimezone(UTC).strftime(SN_TIME)


class Sync:
    def __init__(self, *, table: TableClient, mapping: FieldMapping, clock: Clock,
                 nc: Callable[[], Client], metrics: SyncMetrics,
                 push_delay: timedelta = timedelta(milliseconds=500),
                 poll_every: timedelta = timedelta(seconds=30)) -> None:
        self.table = table
        self.mapping = mapping
        self.clock = clock
        self.nc = nc
        self.metrics = metrics
        self.push_delay = push_delay
        self.poll_every = poll_every
        self.verified: set[str] = set()
        """Records whose journal this process checked for its own last work note."""

    @property
    def tracked(self) -> list[str]:
        """Fields whose ServiceNow value the link keeps: what is mapped out or read back."""
        return [*self.mapping.fields, *(f for f in self.mapping.spec.inbound
                                        if f != "work_notes" and f not in self.mapping.fields)]

    def router(self) -> EventRouter:
        return _router(self.changed)

    async def changed(self, tx: Transaction, envelope: Envelope, event: Any) -> None:
        await self.arm_push(tx, event.incident_id, envelope)

    async def arm_push(self, tx: Transaction, incident_id: str,
                       cause: Envelope | None = None) -> None:
        """One push per incident waiting at a time: an armed one takes this change too."""
        timer_id = push_id(incident_id)
        armed = (await tx.session.execute(select(timers_table.c.timer_id).where(
            timers_table.c.timer_id == timer_id))).first()
        if armed is None:
            await tx.schedule(timer_id, PUSH_TIMER, self.clock.now() + self.push_delay,
                              {"incident_id": incident_id},
                              correlation_id=cause.correlation_id if cause else None,
                              causation_id=cause.id if cause else None)

    # -- out ----------------------------------------------------------------------------
    async def push_due(self, tx: Transaction, timer: Timer) -> None:
        incident_id = str(timer.payload["incident_id"])
        try:
            await self.push(tx, incident_id, force=bool(timer.payload.get("force")))
        except Unavailable as exc:
            await self._later(tx, timer, exc)

    async def _later(self, tx: Transaction, timer: Timer, exc: Unavailable) -> None:
        self.metrics.deferred.inc()
        log.info("ServiceNow unavailable; trying again later",
                 extra={"timer": timer.timer_id, "reason": exc.reason,
                        "retry_after": round(exc.retry_after, 1)})
        await tx.schedule(timer.timer_id, timer.kind,
                          self.clock.now() + timedelta(seconds=max(1.0, exc.retry_after)),
                          timer.payload, correlation_id=timer.correlation_id,
                          causation_id=timer.causation_id)

    async def push(self, tx: Transaction, incident_id: str, *, force: bool = False
                   ) -> Link | None:
        """Bring the incident's record up to date; the link, or None when the incident
        is not synced (no rule chooses it) or does not exist. Raises ``Unavailable``."""
        try:
            view = await request(self.nc(), GetIncident(incident_id=incident_id),
                                 IncidentView)
        except ReplyError as exc:
            if exc.detail.code == "not_found":
                return None
            raise Unavailable(f"the incident service did not answer: {exc}", 5.0) from None
        link = await store.get(tx.session, incident_id, lock=True)
        if link is None:
            if not force and not self.mapping.chooses(view):
                return None
            link = Link(incident_id)
        now = self.clock.now()
        link.service, link.assignment_group = view.service, view.assignment_group
        fields, problems = self.mapping.outbound(view)
        notes, upto = self._notes(view, link)
        try:
            if link.sys_id is None:
                await self._create(tx, link, view, fields, notes, upto)
            else:
                await self._update(tx, link, fields, notes, upto)
        except TableError as exc:
            self._failed(tx, link, "outbound", exc.field, str(exc), now)
            await store.save(tx.session, link)
            return link
        link.pushed_at = now
        if problems:
            for problem in problems:
                self._failed(tx, link, "outbound", problem.field, problem.problem, now)
        else:
            link.clear()
        await store.save(tx.session, link)
        return link

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
        head = f"{MARK}{view.incident_id} #{link.notes_pushed + 1}-{upto}]"
        return "\n".join([head, *lines])[:8000], upto

    async def _create(self, tx: Transaction, link: Link, view: IncidentView,
                      fields: dict[str, str], notes: str, upto: int) -> None:
        now = self.clock.now()
        wanted = [*RECORD, *self.tracked]
        found, _ = await self.table.query(
            INCIDENT, f"correlation_id={view.incident_id}^correlation_display="
                      f"{CORRELATION_DISPLAY}", wanted, limit=1)
        if found:  # made by an attempt that did not live to record it
            record, adopted = found[0], True
            link.sys_id, link.number = str(record["sys_id"]), str(record.get("number", ""))
            link.mod_count = -1
            if notes and await self._note_there(link, notes):
                notes = ""
            changed = {k: v for k, v in fields.items() if str(record.get(k, "")) != v}
            if changed or notes:
                record = await self.table.update(INCIDENT, link.sys_id, {
                    **changed, **({"work_notes": notes} if notes else {})})
        else:
            record, adopted = await self.table.create(INCIDENT, {
                **fields, "correlation_id": view.incident_id,
                "correlation_display": CORRELATION_DISPLAY,
                **({"work_notes": notes} if notes else {})}), False
            link.sys_id, link.number = str(record["sys_id"]), str(record.get("number", ""))
        self.verified.add(link.sys_id)
        link.linked_at = now
        link.remote = {k: str(record.get(k, "")) for k in self.tracked if k in record}
        link.pushed = dict(fields)
        link.mod_count = _mod_count(record)
        link.notes_pushed = upto
        self.metrics.pushed.labels("create").inc()
        tx.emit(events.created(link, now, adopted=adopted))

    async def _update(self, tx: Transaction, link: Link, fields: dict[str, str], notes: str,
                      upto: int) -> None:
        assert link.sys_id is not None
        # A field is written when ReasonOps' value for it changed, unless ServiceNow has
        # that value already (it came from there): changes made in ServiceNow to fields
        # ReasonOps did not change stay, and nothing applied from there is written back.
        changed = {k: v for k, v in fields.items()
                   if link.pushed.get(k) != v and link.remote.get(k) != v}
        link.pushed = dict(fields)
        if notes and link.sys_id not in self.verified:
            if await self._note_there(link, notes):
                notes = ""
            self.verified.add(link.sys_id)
        link.notes_pushed = upto
        if not changed and not notes:
            return
        before = link.mod_count
        try:
            record = await self.table.update(INCIDENT, link.sys_id, {
                **changed, **({"work_notes": notes} if notes else {})},
                idempotent=not notes)
        except Unavailable:
            self.verified.discard(link.sys_id)  # the note may have landed: look first
            raise
        now = self.clock.now()
        for name in changed:
            link.remote[name] = str(record.get(name, changed[name]))
        self.metrics.pushed.labels("update").inc()
        tx.emit(events.updated(link, list(changed), 1 if notes else 0, now))
        if before >= 0 and _mod_count(record) > before + 1:
            # Someone changed the record in ServiceNow since the sync last read it: what
            # they changed (not what was just written) is theirs to apply.
            await self.apply(tx, link, record, "poll", written=set(changed))
        else:
            link.mod_count = max(link.mod_count, _mod_count(record))

    async def _note_there(self, link: Link, notes: str) -> bool:
        """Whether the record's journal holds this note already (by its mark)."""
        head = notes.split("\n", 1)[0]
        for note in await self._journal(link):
            if str(note.get("value", "")).startswith(head):
                return True
        return False

    async def _journal(self, link: Link) -> list[dict[str, Any]]:
        records, _ = await self.table.query(
            JOURNAL, f"element_id={link.sys_id}^element=work_notes^ORDERBYsys_created_on",
            ["sys_id", "value", "sys_created_by", "sys_created_on"], limit=200)
        return records

    # -- back ---------------------------------------------------------------------------
    async def poll_due(self, tx: Transaction, timer: Timer) -> None:
        now = self.clock.now()
        try:
            count = await self.poll(tx)
        except Unavailable as exc:
            await store.set_mark(tx.session, store.LAST_POLL, exc.reason[:256], now)
            await tx.schedule(POLL_ID, POLL_TIMER, now + max(
                self.poll_every, timedelta(seconds=exc.retry_after)), {})
            return
        except TableError as exc:
            await store.set_mark(tx.session, store.LAST_POLL, str(exc)[:256], now)
            self._failed(tx, None, "inbound", exc.field, str(exc), now)
        else:
            await store.set_mark(tx.session, store.LAST_POLL, None, now)
            self.metrics.polled.inc(count)
        await tx.schedule(POLL_ID, POLL_TIMER, now + self.poll_every, {})

    async def poll(self, tx: Transaction) -> int:
        """Read the records changed since the watermark; apply what is new. The number of
        records read."""
        watermark, _ = await store.mark(tx.session, store.WATERMARK)
        since = watermark or sn_time(self.clock.now() - timedelta(minutes=5))
        query = (f"correlation_display={CORRELATION_DISPLAY}^sys_updated_on>={since}"
                 "^ORDERBYsys_updated_on")
        wanted = [*RECORD, *self.tracked]
        seen = 0
        newest = since
        for page in range(PAGES_PER_POLL):
            records, total = await self.table.query(INCIDENT, query, wanted, limit=PAGE,
                                                    offset=page * PAGE)
            seen += len(records)
            links = await store.by_sys_ids(tx.session, [str(r["sys_id"]) for r in records])
            for record in records:
                newest = max(newest, str(record.get("sys_updated_on") or newest))
                link = links.get(str(record["sys_id"]))
                if link is not None and _mod_count(record) > link.mod_count:
                    await self.apply(tx, link, record, "poll")
                    await store.save(tx.session, link)
            if len(records) < PAGE or (page + 1) * PAGE >= total:
                break
        await store.set_mark(tx.session, store.WATERMARK, newest, self.clock.now())
        return seen

    async def pull_due(self, tx: Transaction, timer: Timer) -> None:
        try:
            await self.pull(tx, str(timer.payload["sys_id"]), "inbound")
        except Unavailable as exc:
            await self._later(tx, timer, exc)
        except TableError as exc:
            self._failed(tx, None, "inbound", exc.field, str(exc), self.clock.now())

    async def pull(self, tx: Transaction, sys_id: str, via: str) -> Link | None:
        """Read one record and apply what is new in it; its link, or None when the record
        is not one the sync keeps."""
        links = await store.by_sys_ids(tx.session, [sys_id])
        link = links.get(sys_id)
        if link is None:
            log.info("ServiceNow told of a record not kept in step", extra={"sys_id": sys_id})
            return None
        record = await self.table.get(INCIDENT, sys_id, [*RECORD, *self.tracked])
        if record is None:
            self._failed(tx, link, "inbound", None, f"record {sys_id} is gone from "
                         "ServiceNow", self.clock.now())
        elif _mod_count(record) > link.mod_count or via == "resync":
            await self.apply(tx, link, record, via)
        await store.save(tx.session, link)
        return link

    async def apply(self, tx: Transaction, link: Link, record: dict[str, Any], via: str,
                    *, written: set[str] | frozenset[str] = frozenset()) -> None:
        """Turn what changed in ``record`` since the sync last knew it into commands on
        the incident; ``written``: fields just written by the sync (its own values)."""
        now, by = self.clock.now(), str(record.get("sys_updated_by") or "ServiceNow")
        changes: list[str] = []
        theirs: dict[str, tuple[str, str]] = {}
        for name in self.mapping.spec.inbound:
            if name == "work_notes" or name in written or name not in record:
                continue
            value, before = str(record[name]), link.remote.get(name)
            if value == before:
                continue
            local = self.mapping.local_value(name, value)
            if local is None:
                self._failed(tx, link, "inbound", name, f"ServiceNow {name} {value!r} "
                             "maps to nothing in ReasonOps (add it to the field's values)",
                             now)
                continue
            theirs[name] = (local, f"{name} {before or '(none)'} -> {value}")
        for kept in self.tracked:
            if kept in record and kept not in written:
                link.remote[kept] = str(record[kept])
        if theirs:
            changes += await self._commands(tx, link, theirs, by, now,
                                            str(record.get("close_notes") or ""))
        if self.mapping.inbound("work_notes"):
            changes += await self._notes_back(tx, link, now)
        link.mod_count = max(link.mod_count, _mod_count(record))
        link.pulled_at = now
        if changes:
            self.metrics.applied.labels(via).inc()
            tx.emit(events.applied(link, changes, by, via, now))

    async def _commands(self, tx: Transaction, link: Link, theirs: dict[str, tuple[str, str]],
                        by: str, now: datetime, resolution: str) -> list[str]:
        incident_id = link.incident_id
        why = f"changed in ServiceNow {link.number} by {by}"
        done: list[str] = []
        try:
            view = await request(self.nc(), GetIncident(incident_id=incident_id),
                                 IncidentView)
            if "state" in theirs:
                target = theirs["state"][0]
                for _ in range(3):
                    action = next_action(view.state, target)
                    if action is None:
                        break
                    note = resolution if action == "resolve" and resolution else why
                    view = await request(self.nc(), _lifecycle(action, incident_id, note),
                                         IncidentView)
                done.append(theirs["state"][1])
            if "assignment_group" in theirs:
                group, said = theirs["assignment_group"]
                if group and group != view.assignment_group:
                    view = await request(self.nc(), AssignIncident(
                        incident_id=incident_id, assignment_group=group, note=why),
                        IncidentView)
                done.append(said)
            if "impact" in theirs or "urgency" in theirs:
                impact = _level(theirs.get("impact", (str(view.impact), ""))[0], view.impact)
                urgency = _level(theirs.get("urgency", (str(view.urgency), ""))[0],
                                 view.urgency)
                if (impact, urgency) != (view.impact, view.urgency):
                    await request(self.nc(), ChangeIncidentPriority(
                        incident_id=incident_id, impact=impact, urgency=urgency, note=why),
                        IncidentView)
                done += [theirs[k][1] for k in ("impact", "urgency") if k in theirs]
        except Unreachable as exc:
            self._failed(tx, link, "inbound", exc.field, exc.problem, now)
        except ReplyError as exc:
            field_ = next(iter(theirs)) if len(theirs) == 1 else None
            self._failed(tx, link, "inbound", field_, f"ReasonOps refused {why}: "
                         f"{exc.detail.message}", now)
        return done

    async def _notes_back(self, tx: Transaction, link: Link, now: datetime) -> list[str]:
        done: list[str] = []
        seen = set(link.notes_seen)
        for note in await self._journal(link):
            key = str(note.get("sys_id", ""))
            if not key or key in seen:
                continue
            seen.add(key)
            link.notes_seen.append(key)
            text = str(note.get("value") or "").strip()
            if not text or text.startswith(MARK):
                continue  # the sync's own
            who = str(note.get("sys_created_by") or "ServiceNow")
            try:
                await request(self.nc(), CommentIncident(
                    incident_id=link.incident_id,
                    note=f"ServiceNow work note by {who}: {text}"[:4096]), IncidentView)
            except ReplyError as exc:
                self._failed(tx, link, "inbound", "work_notes", "ReasonOps refused a work "
                             f"note: {exc.detail.message}", now)
                continue
            done.append(f"work note by {who}")
        return done

    def _failed(self, tx: Transaction, link: Link | None, direction: Direction,
                field_: str | None, problem: str, at: datetime) -> None:
        if link is not None and (link.failed_field, link.failure) == (field_, problem[:1024]):
            link.failed_at = at  # the same failure again: on record once
            return
        self.metrics.failures.labels(direction).inc()
        log.warning("ServiceNow sync failed", extra={
            "incident_id": link.incident_id if link else None, "direction": direction,
            "field": field_, "problem": problem})
        if link is not None:
            link.fail(field_, problem, at)
        tx.emit(events.failed(link, direction, field_, problem, at))

    async def ensure_polling(self, tx: Transaction) -> None:
        armed = (await tx.session.execute(select(timers_table.c.timer_id).where(
            timers_table.c.timer_id == POLL_ID))).first()
        if armed is None:
            await tx.schedule(POLL_ID, POLL_TIMER, self.clock.now(), {})


INCIDENT_EVENTS = (IncidentOpened, IncidentAcknowledged, IncidentResolved, IncidentClosed,
                   IncidentReopened, IncidentHeld, IncidentResumed, IncidentAssigned,
                   IncidentPriorityChanged, IncidentMajorDeclared, IncidentCommented)


def _router(handler: Any) -> EventRouter:
    router = EventRouter()
    for model in INCIDENT_EVENTS:
        router.on(model)(handler)
    return router


async def not_configured(tx: Transaction, envelope: Envelope, event: Any) -> None:
    """Without an instance the events are read and let go: configured later, the sync
    starts from then, rather than making records for every incident of the past."""


def idle_router() -> EventRouter:
    return _router(not_configured)


class Unreachable(Exception):
    """A state ServiceNow has that the incident's lifecycle cannot reach from where it
    is."""

    def __init__(self, field_: str, problem: str) -> None:
        super().__init__(problem)
        self.field = field_
        self.problem = problem


def next_action(state: str, target: str) -> str | None:
    """The lifecycle action that brings an incident in ``state`` closer to ``target``."""
    if state == target:
        return None
    if state == "closed":
        raise Unreachable("state", f"the incident is closed in ReasonOps; ServiceNow has "
                          f"it {target}")
    if target == "closed":
        return "close" if state == "resolved" else "resolve"
    if target == "resolved":
        return "resolve"
    if state == "resolved":
        return "reopen"
    if state == "on_hold":
        return "resume"
    if target == "on_hold":
        return "hold"
    if target == "acknowledged":
        return "acknowledge"
    raise Unreachable("state", f"an incident {state} in ReasonOps cannot go back to "
                      f"{target}")


def _lifecycle(action: str, incident_id: str, note: str) -> Any:
    model = {"acknowledge": AcknowledgeIncident, "resolve": ResolveIncident,
             "close": CloseIncident, "reopen": ReopenIncident, "hold": HoldIncident,
             "resume": ResumeIncident}[action]
    return model(incident_id=incident_id, note=note)


def _level(value: str, fallback: int) -> int:
    try:
        level = int(value)
    except ValueError:
        return fallback
    return level if 1 <= level <= 3 else fallback


def _mod_count(record: dict[str, Any]) -> int:
    try:
        return int(record.get("sys_mod_count") or 0)
    except ValueError:
        return 0
