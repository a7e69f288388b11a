"""The sync's tables: one link per incident kept in step (its ServiceNow record, the
record's fields as ServiceNow last had them, how far the timeline went out as work notes,
which of the record's work notes came back, the last failure), and the poll's watermark."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from reasonops_contracts.servicenow import ServiceNowLink
from reasonops_runtime import UtcDateTime
from reasonops_runtime.migrations import schema
from reasonops_runtime.tables import timers_table

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


async def get(session: AsyncSession, incident_id: str, *, lock: bool = False) -> Link | None:
    statement = select(links).where(links.c.incident_id == incident_id)
    if lock:
        statement = statement.with_for_update()
    row = (await session.execute(statement)).first()
    return _link(row) if row is not None else None


async def by_sys_ids(session: AsyncSession, sys_ids: list[str]) -> dict[str, Link]:
    if not sys_ids:
        return {}
    rows = (await session.execute(select(links).where(links.c.sys_id.in_(sys_ids))
                                  .with_for_update())).all()
    return {row.sys_id: _link(row) for row in rows}


async def save(session: AsyncSession, link: Link) -> None:
    values = {c: getattr(link, c) for c in _COLUMNS}
    values["notes_seen"] = link.notes_seen[-NOTES_KEPT:]
    if link.new:
        await session.execute(insert(links).values(**values))
        link.new = False
    else:
        await session.execute(update(links).where(links.c.incident_id == link.incident_id)
                              .values(**values))


async def counts(session: AsyncSession) -> tuple[int, int]:
    """(records linked, links failing)."""
    row = (await session.execute(select(
        func.count(links.c.sys_id), func.count(links.c.failure)))).one()
    return int(row[0]), int(row[1])


async def pending(session: AsyncSession) -> int:
    """Incidents with a push armed."""
    return int((await session.execute(select(func.count()).select_from(timers_table).where(
        timers_table.c.timer_id.startswith("servicenow:push:")))).scalar_one())


async def failing(session: AsyncSession, limit: int = 50) -> list[Link]:
    rows = (await session.execute(select(links).where(links.c.failure.is_not(None))
                                  .order_by(links.c.failed_at.desc()).limit(limit))).all()
    return [_link(r) for r in rows]


async def mark(session: AsyncSession, name: str) -> tuple[str | None, datetime | None]:
    row = (await session.execute(select(marks.c.value, marks.c.at)
                                 .where(marks.c.name == name))).first()
    return (row.value, row.at) if row is not None else (None, None)


async def set_mark(session: AsyncSession, name: str, value: str | None, at: datetime) -> None:
    done = await session.execute(update(marks).where(marks.c.name == name)
                                 .values(value=value, at=at))
    if not getattr(done, "rowcount", 0):
        await session.execute(insert(marks).values(name=name, value=value, at=at))
