"""The ledger: entries (one per penalty, enforced by a unique key) and their posting lines."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Column,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    insert,
    select,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeDecorator, TypeEngine

from reasonops_runtime import UtcDateTime

from .domain import CENT, Booking, Entry, Line


class Money(TypeDecorator[Decimal]):
    """Exact money: NUMERIC(18,2) where the database has it; text on SQLite, whose
    NUMERIC would round-trip through a binary float."""

    impl = Numeric(18, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(32))
        return dialect.type_descriptor(Numeric(18, 2, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        amount = Decimal(value).quantize(CENT)
        return str(amount) if dialect.name == "sqlite" else amount

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(str(value)).quantize(CENT)


metadata = MetaData()

entries = Table(
    "ledger_entries",
    metadata,
    Column("entry_id", String(64), primary_key=True),
    # One entry per penalty, whatever message id it arrived under.
    Column("penalty_id", String(128), nullable=False, unique=True),
    Column("incident_id", String(32), nullable=False, index=True),
    Column("supplier", String(256), nullable=False),
    Column("service", String(256), nullable=False),
    Column("amount", Money(), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("period", String(7), nullable=False, index=True),
    Column("posted_at", UtcDateTime(), nullable=False),
    Column("causation_id", String(64), nullable=False),
)

lines = Table(
    "ledger_lines",
    metadata,
    Column("entry_id", String(64), ForeignKey("ledger_entries.entry_id"), primary_key=True),
    Column("line_no", Integer, primary_key=True),
    Column("account", String(300), nullable=False, index=True),
    Column("debit", Money(), nullable=False),
    Column("credit", Money(), nullable=False),
)

_ENTRY_COLUMNS = [c.name for c in entries.columns]


async def has_penalty(session: AsyncSession, penalty_id: str) -> bool:
    found = await session.execute(select(entries.c.entry_id)
                                  .where(entries.c.penalty_id == penalty_id))
    return found.first() is not None


async def add_entry(session: AsyncSession, entry: Entry) -> None:
    await session.execute(insert(entries).values(
        **{name: getattr(entry, name) for name in _ENTRY_COLUMNS}))
    await session.execute(insert(lines), [
        {"entry_id": entry.entry_id, "line_no": n, "account": line.account,
         "debit": line.debit, "credit": line.credit}
        for n, line in enumerate(entry.lines, start=1)])


async def find_entries(session: AsyncSession, *, month: str | None = None,
                       incident_id: str | None = None, limit: int | None = None
                       ) -> list[Entry]:
    """Entries, newest first, with their lines."""
    query = select(entries).order_by(entries.c.posted_at.desc(), entries.c.entry_id.desc())
    if month is not None:
        query = query.where(entries.c.period == month)
    if incident_id is not None:
        query = query.where(entries.c.incident_id == incident_id)
    if limit is not None:
        query = query.limit(limit)
    rows = list(await session.execute(query))
    by_entry: dict[str, list[Line]] = defaultdict(list)
    ids = [r.entry_id for r in rows]
    for start in range(0, len(ids), 500):
        found = await session.execute(select(lines).where(lines.c.entry_id.in_(
            ids[start:start + 500])).order_by(lines.c.entry_id, lines.c.line_no))
        for ln in found:
            by_entry[ln.entry_id].append(Line(ln.account, ln.debit, ln.credit))
    return [Entry(**{name: getattr(r, name) for name in _ENTRY_COLUMNS},
                  lines=tuple(by_entry[r.entry_id])) for r in rows]


async def bookings_in(session: AsyncSession, month: str) -> list[Booking]:
    """Supplier, service, currency and amount of every entry in ``month``.

    Summed in Python: exact Decimal on every dialect (SQLite's SUM would use floats).
    """
    rows = await session.execute(
        select(entries.c.supplier, entries.c.service, entries.c.currency, entries.c.amount)
        .where(entries.c.period == month))
    return [(r.supplier, r.service, r.currency, r.amount) for r in rows]
