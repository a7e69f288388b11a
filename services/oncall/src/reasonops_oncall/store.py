"""The on-call service's table: overrides made by command (those in the file are read
from the file); a removed one is kept, marked, so its number is never given again."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    func,
    insert,
    select,
    update,
)

from reasonops_runtime import UtcDateTime
from reasonops_runtime.migrations import schema
from reasonops_runtime.store import Session, select_in

from .rotation import Override

metadata = MetaData(info=schema("oncall", "reasonops_oncall:revisions"))

overrides = Table(
    "oncall_overrides",
    metadata,
    Column("override_id", String(16), primary_key=True),
    Column("schedule", String(64), nullable=False, index=True),
    Column("user", String(64), nullable=False),
    Column("start", UtcDateTime(), nullable=False),
    Column("end", UtcDateTime(), nullable=False, index=True),
    Column("reason", String(256), nullable=False),
    Column("created_by", String(160), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("removed_at", UtcDateTime(), nullable=True),
    Column("removed_by", String(160), nullable=True),
)


pagings = Table(
    "oncall_pagings",
    metadata,
    Column("incident_id", String(32), primary_key=True),
    Column("policy", String(64), nullable=False),
    Column("title", String(512), nullable=False),
    Column("service", String(256), nullable=True),
    Column("priority", Integer, nullable=False),
    Column("level", Integer, nullable=False),
    Column("cycle", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("stopped_at", UtcDateTime(), nullable=True),
    Column("reason", String(256), nullable=True),
)


links_used = Table(
    "oncall_links_used",
    metadata,
    Column("nonce", String(32), primary_key=True),
    Column("incident_id", String(32), nullable=False),
    Column("user", String(64), nullable=False),
    Column("action", String(16), nullable=False),
    Column("used_at", UtcDateTime(), nullable=False),
)


def _override(row: Any) -> tuple[str, Override]:
    return row.schedule, Override(row.override_id, row.user, row.start, row.end, row.reason,
                                  row.created_by, row.created_at, "command")


async def add_override(session: Session, schedule: str, override: Override) -> None:
    await session.execute(insert(overrides).values(
        override_id=override.override_id, schedule=schedule, user=override.user,
        start=override.start, end=override.end, reason=override.reason,
        created_by=override.created_by, created_at=override.created_at))


async def next_override_id(session: Session) -> str:
    last = (await session.execute(select(func.max(overrides.c.override_id)))).scalar_one()
    return f"OVR{int(last[3:]) + 1 if last else 1:07d}"


async def get_override(session: Session, override_id: str) -> tuple[str, Override] | None:
    row = (await session.execute(select(overrides).where(
        overrides.c.override_id == override_id, overrides.c.removed_at.is_(None)))).first()
    return _override(row) if row is not None else None


async def remove_override(session: Session, override_id: str, by: str,
                          at: datetime) -> None:
    await session.execute(update(overrides).where(overrides.c.override_id == override_id)
                          .values(removed_at=at, removed_by=by))


async def overrides_until(session: Session, after: datetime
                          ) -> dict[str, list[Override]]:
    """Overrides by schedule that end after ``after``."""
    found: dict[str, list[Override]] = {}
    rows = await session.execute(select(overrides).where(
        overrides.c.end > after, overrides.c.removed_at.is_(None))
        .order_by(overrides.c.created_at))
    for row in rows:
        schedule, override = _override(row)
        found.setdefault(schedule, []).append(override)
    return found


async def get_paging(session: Session, incident_id: str) -> Any | None:
    return (await session.execute(select(pagings).where(
        pagings.c.incident_id == incident_id))).first()


async def get_pagings(session: Session, incident_ids: set[str]) -> dict[str, Any]:
    """The pagings of ``incident_ids`` that exist, by incident."""
    rows = await select_in(session, select(pagings), pagings.c.incident_id, incident_ids)
    return {row.incident_id: row for row in rows}


async def start_paging(session: Session, *, incident_id: str, policy: str, title: str,
                       service: str | None, priority: int, at: datetime) -> None:
    """Paging from the first level (again, for a reopened incident)."""
    await session.execute(delete(pagings).where(pagings.c.incident_id == incident_id))
    await session.execute(insert(pagings).values(
        incident_id=incident_id, policy=policy, title=title[:512], service=service,
        priority=priority, level=0, cycle=1, state="paging", started_at=at))


async def paged_level(session: Session, incident_id: str, level: int, cycle: int) -> None:
    await session.execute(update(pagings).where(pagings.c.incident_id == incident_id)
                          .values(level=level, cycle=cycle))


async def stop_paging(session: Session, incident_id: str, reason: str,
                      at: datetime) -> bool:
    """True when it was paging."""
    done = await session.execute(update(pagings).where(
        pagings.c.incident_id == incident_id, pagings.c.state == "paging")
        .values(state="stopped", stopped_at=at, reason=reason[:256]))
    return bool(getattr(done, "rowcount", 0))


async def use_link(session: Session, nonce: str, incident_id: str, user: str,
                   action: str, at: datetime) -> None:
    """Raises IntegrityError when the link was used already."""
    await session.execute(insert(links_used).values(
        nonce=nonce, incident_id=incident_id, user=user, action=action, used_at=at))


async def release_link(session: Session, nonce: str) -> None:
    await session.execute(delete(links_used).where(links_used.c.nonce == nonce))
