"""The SLM service's tables: SLA clocks and the penalties their breaches cost."""

from __future__ import annotations

from dataclasses import asdict, fields
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from reasonops_runtime import UtcDateTime
from reasonops_runtime.store import select_in

from .domain import Penalty, SlaClock

metadata = MetaData()

clocks = Table(
    "sla_clocks",
    metadata,
    Column("clock_id", String(96), primary_key=True),
    Column("incident_id", String(32), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("policy", String(128), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("service", String(256), nullable=True),
    Column("target_seconds", Integer, nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("deadline", UtcDateTime(), nullable=False),
    Column("state", String(16), nullable=False, index=True),
    Column("stopped_at", UtcDateTime(), nullable=True),
)

# Amounts are kept as the Decimal's exact text: this table is a record, never summed here.
penalties = Table(
    "sla_penalties",
    metadata,
    Column("penalty_id", String(128), primary_key=True),
    Column("incident_id", String(32), nullable=False, index=True),
    Column("clock_id", String(96), nullable=False, unique=True),
    Column("contract_id", String(128), nullable=False),
    Column("supplier", String(256), nullable=False),
    Column("service", String(256), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("amount", String(32), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("assessed_at", UtcDateTime(), nullable=False),
    Column("reason", Text, nullable=False),
)

_CLOCK_FIELDS = [f.name for f in fields(SlaClock)]
_PENALTY_FIELDS = [f.name for f in fields(Penalty)]


def _clock(row: Any) -> SlaClock:
    return SlaClock(**{name: getattr(row, name) for name in _CLOCK_FIELDS})


async def clocks_for(session: AsyncSession, incident_id: str) -> list[SlaClock]:
    rows = await session.execute(select(clocks).where(clocks.c.incident_id == incident_id)
                                 .order_by(clocks.c.started_at, clocks.c.clock_id))
    return [_clock(r) for r in rows]


async def get_clock(session: AsyncSession, clock_id: str) -> SlaClock | None:
    row = (await session.execute(select(clocks).where(clocks.c.clock_id == clock_id))).first()
    return None if row is None else _clock(row)


async def add_clocks(session: AsyncSession, new: list[SlaClock]) -> None:
    if new:
        await session.execute(insert(clocks), [
            {name: getattr(clock, name) for name in _CLOCK_FIELDS} for clock in new])


async def incidents_with_clocks(session: AsyncSession, incident_ids: set[str]) -> set[str]:
    """Which of ``incident_ids`` already have clocks."""
    rows = await select_in(session, select(clocks.c.incident_id).distinct(),
                           clocks.c.incident_id, incident_ids)
    return {row.incident_id for row in rows}


async def save_clock(session: AsyncSession, clock: SlaClock) -> None:
    """Write what changes over a clock's life: its state and when it stopped."""
    await session.execute(update(clocks).where(clocks.c.clock_id == clock.clock_id)
                          .values(state=clock.state, stopped_at=clock.stopped_at))


async def add_penalty(session: AsyncSession, penalty: Penalty) -> None:
    await session.execute(insert(penalties).values(**{**asdict(penalty),
                                                      "amount": str(penalty.amount)}))


async def penalties_for(session: AsyncSession, incident_id: str) -> list[Penalty]:
    rows = await session.execute(select(penalties).where(penalties.c.incident_id == incident_id)
                                 .order_by(penalties.c.assessed_at, penalties.c.penalty_id))
    return [Penalty(**{name: getattr(r, name) for name in _PENALTY_FIELDS
                       if name != "amount"}, amount=Decimal(r.amount)) for r in rows]
