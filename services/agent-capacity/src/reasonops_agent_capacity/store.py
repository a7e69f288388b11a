"""The capacity agent's series of measurements and what it last concluded per series."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import (
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    insert,
    select,
    update,
)

from reasonops_runtime import UtcDateTime
from reasonops_runtime.migrations import schema
from reasonops_runtime.store import Session

from .domain import Reading

metadata = MetaData(info=schema("agent-capacity", "reasonops_agent_capacity:revisions"))

points = Table(
    "capacity_points",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("series", String(512), nullable=False),
    Column("metric", String(256), nullable=False),
    Column("resource", String(512), nullable=True),
    Column("value", Float, nullable=False),
    Column("limit", Float, nullable=False),
    Column("severity", String(16), nullable=False),
    Column("fingerprint", String(128), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    # A forecast reads a series over its lookback; older points are forgotten.
    Index("ix_capacity_points_series_at", "series", "at"),
)

series_state = Table(
    "capacity_series",
    metadata,
    Column("series", String(512), primary_key=True),
    Column("last_urgency", Integer, nullable=False),
)

incidents = Table(
    "capacity_incidents",
    metadata,
    Column("fingerprint", String(128), primary_key=True),
    Column("incident_id", String(32), nullable=False),
)


async def add(session: Session, found: Sequence[Reading]) -> None:
    await session.execute(insert(points), [dict(
        series=r.series, metric=r.metric, resource=r.resource, value=r.value, limit=r.limit,
        severity=r.severity, fingerprint=r.fingerprint, at=r.at) for r in found])


async def recent(session: Session, series: str, since: datetime) -> list[Reading]:
    rows = await session.execute(select(points).where(points.c.series == series,
                                                      points.c.at >= since)
                                 .order_by(points.c.at))
    return [Reading(series=r.series, metric=r.metric, resource=r.resource, value=r.value,
                    limit=r.limit, at=r.at, severity=r.severity, fingerprint=r.fingerprint)
            for r in rows]


async def forget_before(session: Session, series: str, before: datetime) -> None:
    """The series' points no forecast reads again (older than the lookback of its latest)."""
    await session.execute(delete(points).where(points.c.series == series,
                                               points.c.at < before))


async def last_urgency(session: Session, series: str) -> int | None:
    row = (await session.execute(select(series_state.c.last_urgency)
                                 .where(series_state.c.series == series))).first()
    return row.last_urgency if row else None


async def set_urgency(session: Session, series: str, level: int, known: bool) -> None:
    if known:
        await session.execute(update(series_state).where(series_state.c.series == series)
                              .values(last_urgency=level))
    else:
        await session.execute(insert(series_state), [dict(series=series, last_urgency=level)])


async def remember_incidents(session: Session, pairs: dict[str, str]) -> None:
    known = {r.fingerprint for r in await session.execute(
        select(incidents.c.fingerprint).where(incidents.c.fingerprint.in_(pairs)))}
    fresh = [dict(fingerprint=f, incident_id=i) for f, i in pairs.items() if f not in known]
    if fresh:
        await session.execute(insert(incidents), fresh)


async def incident_for(session: Session, fingerprint: str) -> str | None:
    row = (await session.execute(select(incidents.c.incident_id)
                                 .where(incidents.c.fingerprint == fingerprint))).first()
    return row.incident_id if row else None
