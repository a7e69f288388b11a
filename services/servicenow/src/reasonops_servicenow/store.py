"""The sync's tables: one link per incident kept in step (its ServiceNow record, the
record's fields as ServiceNow last had them, how far the timeline went out as work notes,
which of the record's work notes came back, the last failure), and the poll's watermark."""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)

from reasonops_contracts.servicenow import ServiceNowLink
from reasonops_runtime import UtcDateTime
from reasonops_runtime.migrations import schema
from reasonops_runtime.store import Session
from reasonops_runtime.transaction import conflict_insert

metadata = MetaData(info=schema("servicenow", "reasonops_servicenow:revisions"))

links = Table(
    "servicenow_links",
    metadata,
    Column("incident_id", String(32), primary_key=True),
    Column("sys_id", String(32), nullable=True, unique=True),
    Column("number", String(40), nullable=True),
    Column("service", String(256), nullable=True),
    Column("assignment_group", String(128), nullable=True),
    Column("remote", JSON, nullable=False),
    Column("pushed", JSON, nullable=False),
    Column("mod_count", Integer, nullable=False),
    Column("notes_pushed", Integer, nullable=False),
    Column("notes_seen", JSON, nullable=False),
    Column("linked_at", UtcDateTime(), nullable=True),
    Column("pushed_at", UtcDateTime(), nullable=True),
    Column("pulled_at", UtcDateTime(), nullable=True),
    Column("failed_field", String(80), nullable=True),
    Column("failure", String(1024), nullable=True),
    Column("failed_at", UtcDateTime(), nullable=True, index=True),
)

pushes = Table(
    "servicenow_pushes",
    metadata,
    Column("incident_id", String(32), primary_key=True),
    Column("due_at", UtcDateTime(), nullable=False, index=True),
    Column("wanted", Integer, nullable=False),
    Column("force", Boolean, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("lease_until", UtcDateTime(), nullable=True),
    Column("owner", String(128), nullable=True),
)
"""Incidents whose record is to be brought up to date: ``wanted`` counts the changes
asked for, so a change during a push leaves the row due again; ``attempts`` counts
claims not finished (more than one: an earlier one may have reached ServiceNow)."""

marks = Table(
    "servicenow_marks",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("value", String(256), nullable=True),
    Column("at", UtcDateTime(), nullable=True),
)
WATERMARK = "watermark"
LAST_POLL = "last_poll"
NOTES_KEPT = 200
"""Work notes remembered per record as come back (their ``sys_id``), newest last."""


@dataclass
class Link:
    incident_id: str
    sys_id: str | None = None
    number: str | None = None
    service: str | None = None
    assignment_group: str | None = None
    remote: dict[str, str] = field(default_factory=dict)
    """The mapped fields as ServiceNow last had them (read, or written by the sync)."""
    pushed: dict[str, str] = field(default_factory=dict)
    """The values ReasonOps last wanted for them: a field is written when this changes."""
    mod_count: int = -1
    notes_pushed: int = 0
    notes_seen: list[str] = field(default_factory=list)
    linked_at: datetime | None = None
    pushed_at: datetime | None = None
    pulled_at: datetime | None = None
    failed_field: str | None = None
    failure: str | None = None
    failed_at: datetime | None = None
    new: bool = True

    def view(self) -> ServiceNowLink:
        return ServiceNowLink(
            incident_id=self.incident_id, sys_id=self.sys_id, number=self.number,
            linked_at=self.linked_at, pushed_at=self.pushed_at, pulled_at=self.pulled_at,
            remote=dict(self.remote), work_notes_pushed=self.notes_pushed,
            failed_field=self.failed_field, failure=self.failure, failed_at=self.failed_at)

    def fail(self, field_: str | None, problem: str, at: datetime) -> None:
        self.failed_field, self.failure, self.failed_at = field_, problem[:1024], at

    def clear(self) -> None:
        self.failed_field = self.failure = None
        self.failed_at = None


_COLUMNS = ("incident_id", "sys_id", "number", "service", "assignment_group", "remote",
            "pushed", "mod_count", "notes_pushed", "notes_seen", "linked_at", "pushed_at",
            "pulled_at", "failed_field", "failure", "failed_at")


def _link(row: Any) -> Link:
    data = row._mapping
    return Link(**{c: data[c] for c in _COLUMNS}, new=False)


async def of_incidents(session: Session, incident_ids: list[str], *,
                       lock: bool = False) -> dict[str, Link]:
    """The links of ``incident_ids`` that exist, in one statement."""
    if not incident_ids:
        return {}
    statement = select(links).where(links.c.incident_id.in_(incident_ids))
    if lock:
        statement = statement.with_for_update()
    return {row.incident_id: _link(row) for row in (await session.execute(statement)).all()}


async def save_all(session: Session, changed: list[Link]) -> None:
    """Write ``changed`` links: the new ones in one statement, the others in one more
    (executemany)."""
    fresh = [_values(link) for link in changed if link.new]
    known = [{"key": link.incident_id, **_values(link)} for link in changed if not link.new]
    if fresh:
        await session.execute(insert(links), fresh)
    if known:
        await session.execute(update(links).where(links.c.incident_id == bindparam("key"))
                              .values({c: bindparam(c) for c in _COLUMNS
                                       if c != "incident_id"}), known)
    for link in changed:
        link.new = False


def _values(link: Link) -> dict[str, Any]:
    values = {c: getattr(link, c) for c in _COLUMNS}
    values["notes_seen"] = link.notes_seen[-NOTES_KEPT:]
    return values


async def by_sys_ids(session: Session, sys_ids: list[str]) -> dict[str, Link]:
    if not sys_ids:
        return {}
    rows = (await session.execute(select(links).where(links.c.sys_id.in_(sys_ids))
                                  .with_for_update())).all()
    return {row.sys_id: _link(row) for row in rows}


async def counts(session: Session) -> tuple[int, int]:
    """(records linked, links failing)."""
    row = (await session.execute(select(
        func.count(links.c.sys_id), func.count(links.c.failure)))).one()
    return int(row[0]), int(row[1])


async def pending(session: Session) -> int:
    """Incidents whose record waits to be brought up to date."""
    return int((await session.execute(select(func.count()).select_from(pushes)))
               .scalar_one())


@dataclass(frozen=True)
class Claim:
    incident_id: str
    wanted: int
    force: bool
    attempts: int


async def want_pushes(session: Session, incident_ids: list[str], due_at: datetime, *,
                      force: bool = False) -> None:
    """Ask for each incident's record to be brought up to date by ``due_at`` (a push
    asked for earlier keeps its time: a burst of changes is one push); ``force``: whether
    a rule chooses the incident or not. An insert adding to the row there is, so a push
    finishing meanwhile sees the change (and stays due) or deleted its row first (and
    this makes one); a read then an update lost it between them on PostgreSQL."""
    wanted = collections.Counter(incident_ids)
    if not wanted:
        return
    for times in sorted(set(wanted.values())):
        statement = conflict_insert(session, pushes).values([
            {"incident_id": i, "due_at": due_at, "wanted": times, "force": force,
             "attempts": 0} for i, n in sorted(wanted.items()) if n == times])
        await session.execute(statement.on_conflict_do_update(
            index_elements=[pushes.c.incident_id],
            set_={"wanted": pushes.c.wanted + times,
                  **({"force": True} if force else {})}))


async def claim_due(session: Session, now: datetime, *, owner: str,
                    lease_until: datetime, limit: int) -> list[Claim]:
    """Take up to ``limit`` due pushes no live claim holds, oldest first, for ``owner``
    until ``lease_until`` (three statements; a row another replica took meanwhile is
    not taken: the update checks again)."""
    free = or_(pushes.c.lease_until.is_(None), pushes.c.lease_until < now)
    ids = [r.incident_id for r in (await session.execute(
        select(pushes.c.incident_id).where(pushes.c.due_at <= now, free)
        .order_by(pushes.c.due_at).limit(limit))).all()]
    if not ids:
        return []
    await session.execute(update(pushes).where(pushes.c.incident_id.in_(ids), free).values(
        attempts=pushes.c.attempts + 1, lease_until=lease_until, owner=owner))
    rows = (await session.execute(select(pushes).where(
        pushes.c.incident_id.in_(ids), pushes.c.owner == owner,
        pushes.c.lease_until == lease_until))).all()
    return [Claim(r.incident_id, r.wanted, r.force, r.attempts) for r in rows]


async def claim_push(session: Session, incident_id: str, now: datetime, *,
                     owner: str, lease_until: datetime, any_time: bool = False
                     ) -> Claim | None:
    """Take the incident's push for ``owner`` until ``lease_until``; None when another
    holds it (or, unless ``any_time``, it is not due)."""
    free = or_(pushes.c.lease_until.is_(None), pushes.c.lease_until < now)
    condition = [pushes.c.incident_id == incident_id, free]
    if not any_time:
        condition.append(pushes.c.due_at <= now)
    done = await session.execute(update(pushes).where(*condition).values(
        attempts=pushes.c.attempts + 1, lease_until=lease_until, owner=owner))
    if getattr(done, "rowcount", 0) != 1:
        return None
    row = (await session.execute(select(pushes).where(
        pushes.c.incident_id == incident_id))).one()
    return Claim(row.incident_id, row.wanted, row.force, row.attempts)


async def finish_pushes(session: Session, claims: list[Claim], now: datetime) -> None:
    """Done: gone, unless a change came in meanwhile (then due again, at once); three
    statements whatever the number."""
    if not claims:
        return
    await session.execute(delete(pushes).where(
        pushes.c.incident_id == bindparam("key"), pushes.c.wanted == bindparam("seen")),
        [{"key": c.incident_id, "seen": c.wanted} for c in claims])
    ids = [c.incident_id for c in claims]
    await session.execute(update(pushes).where(pushes.c.incident_id.in_(ids))
                          .values(due_at=now, attempts=0, lease_until=None, owner=None))


async def release_push(session: Session, claim: Claim, due_at: datetime) -> None:
    """Not done (ServiceNow asked to wait): due again at ``due_at``; the attempt counts."""
    await session.execute(update(pushes).where(pushes.c.incident_id == claim.incident_id)
                          .values(due_at=due_at, lease_until=None, owner=None))


async def in_flight(session: Session, incident_ids: list[str], now: datetime
                    ) -> set[str]:
    """Of ``incident_ids``, those whose push a live claim holds."""
    if not incident_ids:
        return set()
    rows = (await session.execute(select(pushes.c.incident_id).where(
        pushes.c.incident_id.in_(incident_ids), pushes.c.lease_until >= now))).all()
    return {r.incident_id for r in rows}


async def failing(session: Session, limit: int = 50) -> list[Link]:
    rows = (await session.execute(select(links).where(links.c.failure.is_not(None))
                                  .order_by(links.c.failed_at.desc()).limit(limit))).all()
    return [_link(r) for r in rows]


async def mark(session: Session, name: str) -> tuple[str | None, datetime | None]:
    row = (await session.execute(select(marks.c.value, marks.c.at)
                                 .where(marks.c.name == name))).first()
    return (row.value, row.at) if row is not None else (None, None)


async def set_mark(session: Session, name: str, value: str | None, at: datetime) -> None:
    done = await session.execute(update(marks).where(marks.c.name == name)
                                 .values(value=value, at=at))
    if not getattr(done, "rowcount", 0):
        await session.execute(insert(marks).values(name=name, value=value, at=at))
