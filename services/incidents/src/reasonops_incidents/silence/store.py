"""Silences and maintenance windows: their table, and the active ones kept in memory."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Integer,
    String,
    Table,
    Text,
    bindparam,
    insert,
    or_,
    select,
    update,
)

from reasonops_runtime import UtcDateTime
from reasonops_runtime.store import Session

from ..store import metadata
from .domain import Schedule, Silence, first_match

silences_table = Table(
    "silences",
    metadata,
    Column("silence_id", String(32), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("matchers", JSON, nullable=False),
    Column("starts_at", UtcDateTime(), nullable=False),
    Column("ends_at", UtcDateTime(), nullable=True),
    Column("schedule", JSON, nullable=True),
    Column("until", UtcDateTime(), nullable=True),
    Column("author", String(128), nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expired_at", UtcDateTime(), nullable=True),
    Column("matched", Integer, nullable=False, default=0),
)

REFRESH_SECONDS = 1.0  # other replicas' new silences are seen within this


def from_row(row: Any) -> Silence:
    schedule = Schedule(tuple(row.schedule["days"]), row.schedule["start"],
                        int(row.schedule["duration_seconds"])) if row.schedule else None
    return Silence(silence_id=row.silence_id, kind=row.kind, matchers=tuple(row.matchers),
                   starts_at=row.starts_at, ends_at=row.ends_at, author=row.author,
                   reason=row.reason, created_at=row.created_at, schedule=schedule,
                   until=row.until, expired_at=row.expired_at, matched=row.matched or 0)


async def insert_silence(session: Session, silence: Silence) -> None:
    await session.execute(insert(silences_table).values(
        silence_id=silence.silence_id, kind=silence.kind, matchers=list(silence.matchers),
        starts_at=silence.starts_at, ends_at=silence.ends_at,
        schedule=None if silence.schedule is None else {
            "days": list(silence.schedule.days), "start": silence.schedule.start,
            "duration_seconds": silence.schedule.duration},
        until=silence.until, author=silence.author, reason=silence.reason,
        created_at=silence.created_at, expired_at=None, matched=0))


async def get_silence(session: Session, silence_id: str) -> Silence | None:
    row = (await session.execute(select(silences_table).where(
        silences_table.c.silence_id == silence_id))).first()
    return None if row is None else from_row(row)


async def list_silences(session: Session, *, now: datetime, include_expired: bool
                        ) -> list[Silence]:
    query = select(silences_table).order_by(silences_table.c.silence_id)
    if not include_expired:
        query = query.where(silences_table.c.expired_at.is_(None)).where(or_(
            silences_table.c.ends_at.is_(None), silences_table.c.ends_at > now))
    return [s for s in map(from_row, await session.execute(query))
            if include_expired or s.state(now) != "expired"]


async def expire(session: Session, silence_id: str, at: datetime) -> None:
    await session.execute(update(silences_table).where(
        silences_table.c.silence_id == silence_id).values(expired_at=at))


class SilenceBook:
    """The silences that may still apply, reloaded at most every REFRESH_SECONDS."""

    def __init__(self, now: Any) -> None:
        self._now = now
        self.silences: list[Silence] = []
        self._loaded = float("-inf")

    def invalidate(self) -> None:
        self._loaded = float("-inf")

    async def refresh(self, session: Session) -> None:
        if time.monotonic() - self._loaded < REFRESH_SECONDS:
            return
        # Not yet expired by hand or by end time (recurring ones run until "until").
        self.silences = await list_silences(session, now=self._now(), include_expired=False)
        self._loaded = time.monotonic()

    def match(self, fields: dict[str, str], at: datetime) -> Silence | None:
        return first_match(self.silences, fields, at) if self.silences else None

    async def count(self, session: Session, matched: Mapping[str, int]) -> None:
        if matched:
            await session.execute(
                update(silences_table).where(silences_table.c.silence_id == bindparam("b_id"))
                .values(matched=silences_table.c.matched + bindparam("b_n")),
                [{"b_id": k, "b_n": n} for k, n in matched.items()])
