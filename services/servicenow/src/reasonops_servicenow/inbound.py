"""What people change in ServiceNow, back to the incident.

The poll reads the records changed since its watermark (``sys_updated_on``, whole
seconds: read with ``>=`` and told apart by ``sys_mod_count``); ServiceNow may also name
one record that changed (the inbound endpoint), read at once. A record whose
``sys_mod_count`` is not beyond the last the sync knows (its own write, most often) is
skipped; otherwise each inbound field that differs from what ServiceNow last had becomes
a command on the incident, sent as the sync's own principal (state changes along the
lifecycle, assignment, impact and urgency), and each work note not marked as the sync's
own a comment. A record whose push is in flight is left to that push (its answer shows
what changed) and read again by the next poll.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from nats.aio.client import Client

from reasonops_contracts import ReplyError
from reasonops_contracts.incidents import (
    AcknowledgeIncident,
    AssignIncident,
    ChangeIncidentPriority,
    CloseIncident,
    CommentIncident,
    GetIncident,
    HoldIncident,
    IncidentView,
    ReopenIncident,
    ResolveIncident,
    ResumeIncident,
)
from reasonops_runtime import Clock, Transaction
from reasonops_runtime.client import request

from . import events, store
from .failures import Failures
from .mapping import CORRELATION_DISPLAY, NOTE_MARK, FieldMapping
from .metrics import SyncMetrics
from .store import Link
from .table import INCIDENT, RECORD_FIELDS, TableClient, mod_count

log = logging.getLogger(__name__)

PAGE = 100
PAGES_PER_POLL = 10
FIRST_LOOK_BACK = timedelta(minutes=5)


def sn_time(at: datetime) -> str:
    """A time as ServiceNow's API writes ``sys_updated_on`` (UTC)."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


class Inbound:
    def __init__(self, *, table: TableClient, mapping: FieldMapping, clock: Clock,
                 nc: Callable[[], Client], metrics: SyncMetrics, failures: Failures) -> None:
        self.table = table
        self.mapping = mapping
        self.clock = clock
        self.nc = nc
        self.metrics = metrics
        self.failures = failures

    async def poll(self, tx: Transaction) -> int:
        """Read the records changed since the watermark; apply what is new. The number of
        records read."""
        watermark, _ = await store.mark(tx.session, store.WATERMARK)
        since = watermark or sn_time(self.clock.now() - FIRST_LOOK_BACK)
        query = (f"correlation_display={CORRELATION_DISPLAY}^sys_updated_on>={since}"
                 "^ORDERBYsys_updated_on")
        wanted = [*RECORD_FIELDS, *self.mapping.tracked()]
        seen, newest, held = 0, since, None
        for page in range(PAGES_PER_POLL):
            records, total = await self.table.query(INCIDENT, query, wanted, limit=PAGE,
                                                    offset=page * PAGE)
            seen += len(records)
            links = await store.by_sys_ids(tx.session, [str(r["sys_id"]) for r in records])
            busy = await store.in_flight(tx.session, [k.incident_id for k in links.values()],
                                         self.clock.now())
            for record in records:
                updated = str(record.get("sys_updated_on") or newest)
                newest = max(newest, updated)
                link = links.get(str(record["sys_id"]))
                if link is None or mod_count(record) <= link.mod_count:
                    continue
                if link.incident_id in busy:  # its push's answer tells; read it next time
                    held = updated if held is None else min(held, updated)
                    continue
                await self.apply(tx, link, record, "poll")
                await store.save_all(tx.session, [link])
            if len(records) < PAGE or (page + 1) * PAGE >= total:
                break
        await store.set_mark(tx.session, store.WATERMARK,
                             newest if held is None else min(newest, held), self.clock.now())
        self.metrics.polled.inc(seen)
        return seen

    async def pull(self, tx: Transaction, sys_id: str, via: str) -> Link | None:
        """Read one record and apply what is new in it; its link, or None when the record
        is not one the sync keeps."""
        link = (await store.by_sys_ids(tx.session, [sys_id])).get(sys_id)
        if link is None:
            log.info("ServiceNow told of a record not kept in step", extra={"sys_id": sys_id})
            return None
        record = await self.table.get(INCIDENT, sys_id,
                                      [*RECORD_FIELDS, *self.mapping.tracked()])
        if record is None:
            self.failures.record(tx, link, "inbound", None,
                                 f"record {sys_id} is gone from ServiceNow", self.clock.now())
        elif mod_count(record) > link.mod_count or via == "resync":
            await self.apply(tx, link, record, via)
        await store.save_all(tx.session, [link])
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
                self.failures.record(tx, link, "inbound", name, (
                    f"ServiceNow {name} {value!r} maps to nothing in ReasonOps (add it to "
                    "the field's values)"), now)
                continue
            theirs[name] = (local, f"{name} {before or '(none)'} -> {value}")
        for kept in self.mapping.tracked():
            if kept in record and kept not in written:
                link.remote[kept] = str(record[kept])
        if theirs:
            changes += await self._commands(tx, link, theirs, by,
                                            str(record.get("close_notes") or ""))
        if self.mapping.inbound("work_notes"):
            changes += await self._notes_back(tx, link, now)
        link.mod_count = max(link.mod_count, mod_count(record))
        link.pulled_at = now
        if changes:
            self.metrics.applied.labels(via).inc()
            tx.emit(events.applied(link, changes, by, via, now))

    async def _commands(self, tx: Transaction, link: Link, theirs: dict[str, tuple[str, str]],
                        by: str, resolution: str) -> list[str]:
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
            self.failures.record(tx, link, "inbound", exc.field, exc.problem,
                                 self.clock.now())
        except ReplyError as exc:
            field_ = next(iter(theirs)) if len(theirs) == 1 else None
            self.failures.record(tx, link, "inbound", field_, f"ReasonOps refused {why}: "
                                 f"{exc.detail.message}", self.clock.now())
        return done

    async def _notes_back(self, tx: Transaction, link: Link, now: datetime) -> list[str]:
        assert link.sys_id is not None
        done: list[str] = []
        seen = set(link.notes_seen)
        for note in await self.table.journal(link.sys_id):
            key = str(note.get("sys_id", ""))
            if not key or key in seen:
                continue
            seen.add(key)
            link.notes_seen.append(key)
            text = str(note.get("value") or "").strip()
            if not text or text.startswith(NOTE_MARK):
                continue  # the sync's own
            who = str(note.get("sys_created_by") or "ServiceNow")
            try:
                await request(self.nc(), CommentIncident(
                    incident_id=link.incident_id,
                    note=f"ServiceNow work note by {who}: {text}"[:4096]), IncidentView)
            except ReplyError as exc:
                self.failures.record(tx, link, "inbound", "work_notes", "ReasonOps refused "
                                     f"a work note: {exc.detail.message}", now)
                continue
            done.append(f"work note by {who}")
        return done


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
