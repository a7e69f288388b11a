"""The change service's tables: the changes, and the incidents linked to them."""

from __future__ import annotations

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
    Text,
    func,
    insert,
    select,
    update,
)

from reasonops_contracts.changes import LinkedIncident
from reasonops_runtime import UtcDateTime
from reasonops_runtime.migrations import schema
from reasonops_runtime.store import Session

from .domain import Change

metadata = MetaData(info=schema("changes", "reasonops_changes:revisions"))

changes = Table(
    "changes",
    metadata,
    Column("change_id", String(16), primary_key=True),
    Column("type", String(16), nullable=False),
    Column("state", String(16), nullable=False, index=True),
    Column("title", String(256), nullable=False),
    Column("description", Text, nullable=True),
    Column("services", JSON, nullable=False),
    Column("risk", String(8), nullable=False),
    Column("risk_reason", String(256), nullable=False),
    Column("impact", Integer, nullable=False),
    Column("planned_start", UtcDateTime(), nullable=False, index=True),
    Column("planned_end", UtcDateTime(), nullable=False, index=True),
    Column("implementation_plan", Text, nullable=True),
    Column("backout_plan", Text, nullable=True),
    Column("template", String(64), nullable=True),
    Column("requested_by", String(160), nullable=False),
    Column("requested_at", UtcDateTime(), nullable=False),
    Column("approved_by", JSON, nullable=False),
    Column("decided_at", UtcDateTime(), nullable=True),
    Column("decision", String(1024), nullable=True),
    Column("started_at", UtcDateTime(), nullable=True),
    Column("completed_at", UtcDateTime(), nullable=True, index=True),
    Column("outcome", String(16), nullable=True),
    Column("note", String(4096), nullable=True),
    Column("silence_ids", JSON, nullable=False),
    Column("review_due", Boolean, nullable=False),
    Column("reviewed_by", String(160), nullable=True),
)

links = Table(
    "change_incidents",
    metadata,
    Column("change_id", String(16), primary_key=True),
    Column("incident_id", String(32), primary_key=True, index=True),
    Column("service", String(256), nullable=False),
    Column("linked_at", UtcDateTime(), nullable=False),
    Column("reason", String(512), nullable=False),
)

_COLUMNS = tuple(c.name for c in changes.columns)


def _change(row: Any) -> Change:
    data = row._mapping
    return Change(**{c: data[c] for c in _COLUMNS})


async def next_change_id(session: Session) -> str:
    last = (await session.execute(select(func.max(changes.c.change_id)))).scalar_one()
    return f"CHG{int(last[3:]) + 1 if last else 1:07d}"


async def add(session: Session, change: Change) -> None:
    await session.execute(insert(changes).values(
        **{c: getattr(change, c) for c in _COLUMNS}))


async def save(session: Session, change: Change) -> None:
    await session.execute(update(changes).where(changes.c.change_id == change.change_id)
                          .values(**{c: getattr(change, c) for c in _COLUMNS
                                     if c != "change_id"}))


async def get(session: Session, change_id: str, *, lock: bool = False) -> Change | None:
    statement = select(changes).where(changes.c.change_id == change_id)
    if lock:
        statement = statement.with_for_update()
    row = (await session.execute(statement)).first()
    return _change(row) if row is not None else None


async def open_between(session: Session, start: datetime, end: datetime
                       ) -> list[Change]:
    """Changes whose window overlaps ``start``..``end`` (any state), by start."""
    rows = (await session.execute(select(changes).where(
        changes.c.planned_start < end, changes.c.planned_end > start)
        .order_by(changes.c.planned_start))).all()
    return [_change(r) for r in rows]


async def listing(session: Session, *, states: list[str] | None, limit: int,
                  ids: list[str] | None = None) -> list[Change]:
    statement = select(changes).order_by(changes.c.change_id.desc()).limit(limit)
    if states:
        statement = statement.where(changes.c.state.in_(states))
    if ids is not None:
        statement = statement.where(changes.c.change_id.in_(ids))
    return [_change(r) for r in (await session.execute(statement)).all()]


async def touching(session: Session, at: datetime, window_start: datetime
                   ) -> list[Change]:
    """Changes implementing now, or completed since ``window_start``: an incident opened
    ``at`` on one of their services may be theirs."""
    rows = (await session.execute(select(changes).where(
        (changes.c.state == "implementing")
        | ((changes.c.state == "completed") & (changes.c.completed_at >= window_start)
           & (changes.c.completed_at <= at))))).all()
    return [_change(r) for r in rows]


async def completed_in(session: Session, start: datetime, end: datetime
                       ) -> list[Change]:
    rows = (await session.execute(select(changes).where(
        changes.c.state == "completed", changes.c.completed_at >= start,
        changes.c.completed_at < end))).all()
    return [_change(r) for r in rows]


async def link(session: Session, change_id: str, incident_id: str, service: str,
               at: datetime, reason: str) -> bool:
    """Link an incident to a change once; False when it was linked already."""
    known = (await session.execute(select(links.c.change_id).where(
        links.c.change_id == change_id, links.c.incident_id == incident_id))).first()
    if known is not None:
        return False
    await session.execute(insert(links).values(change_id=change_id, incident_id=incident_id,
                                               service=service, linked_at=at, reason=reason))
    return True


async def linked(session: Session, change_ids: list[str]
                 ) -> dict[str, list[LinkedIncident]]:
    if not change_ids:
        return {}
    rows = (await session.execute(select(links).where(links.c.change_id.in_(change_ids))
                                  .order_by(links.c.linked_at))).all()
    found: dict[str, list[LinkedIncident]] = {}
    for r in rows:
        found.setdefault(r.change_id, []).append(LinkedIncident(
            incident_id=r.incident_id, service=r.service, linked_at=r.linked_at,
            reason=r.reason))
    return found


async def of_incident(session: Session, incident_id: str) -> list[str]:
    rows = (await session.execute(select(links.c.change_id).where(
        links.c.incident_id == incident_id))).all()
    return [r.change_id for r in rows]
