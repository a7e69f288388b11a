"""The ledger: entries (one per penalty, enforced by a unique key) and their posting lines."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
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
    Text,
    bindparam,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator, TypeEngine

from reasonops_contracts.money import quantum
from reasonops_runtime import UtcDateTime
from reasonops_runtime.migrations import schema
from reasonops_runtime.store import Session, select_in

from .domain import Booking, Entry, Line


class Money(TypeDecorator[Decimal]):
    """Exact money: NUMERIC(18,2) where the database has it; text on SQLite, whose
    NUMERIC would round-trip through a binary float."""

    impl = Numeric(20, 4)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(32))
        return dialect.type_descriptor(Numeric(20, 4, asdecimal=True))

    # Amounts arrive already exact in their currency's minor unit (the domain checks);
    # the currency column says how many places to show, so the text keeps its own.
    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return str(Decimal(value)) if dialect.name == "sqlite" else Decimal(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(str(value))


def in_minor_unit(amount: Decimal, currency: str) -> Decimal:
    """``amount`` with exactly its currency's places, whatever the column kept: NUMERIC(20,4)
    on PostgreSQL reads 3000.0000 where SQLite's text reads 3000.00."""
    return amount.quantize(quantum(currency))


metadata = MetaData(info=schema("finance", "reasonops_finance:revisions"))

entries = Table(
    "ledger_entries",
    metadata,
    Column("entry_id", String(64), primary_key=True),
    # One entry per source (penalty, incident cost), whatever message id it arrived under.
    Column("source_key", String(192), nullable=False, unique=True),
    Column("kind", String(16), nullable=False, index=True),
    Column("penalty_id", String(160), nullable=True),
    Column("incident_id", String(32), nullable=True, index=True),
    Column("supplier", String(256), nullable=True),
    Column("service", String(256), nullable=False),
    Column("amount", Money(), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("period", String(7), nullable=False, index=True),
    Column("original_period", String(7), nullable=True),
    Column("reference", Text, nullable=True),
    Column("posted_at", UtcDateTime(), nullable=False),
    Column("causation_id", String(64), nullable=False),
    Column("causation_type", String(128), nullable=True),
    Column("correlation_id", String(64), nullable=True),
    Column("memo", Text, nullable=True),
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

incidents = Table(
    "finance_incidents",
    metadata,
    Column("incident_id", String(32), primary_key=True),
    Column("service", String(256), nullable=True),
    Column("priority", Integer, nullable=False),
    Column("opened_at", UtcDateTime(), nullable=False),
    Column("acknowledged_at", UtcDateTime(), nullable=True),
    Column("resolved_at", UtcDateTime(), nullable=True),
    # When ReasonOps opened it (``opened_at`` is its first alert's start): effort counts
    # from here at the earliest. Unknown (None) for incidents followed before 0002.
    Column("reported_at", UtcDateTime(), nullable=True),
)

periods = Table(
    "ledger_periods",
    metadata,
    Column("month", String(7), primary_key=True),
    Column("closed_at", UtcDateTime(), nullable=False),
    Column("closed_by", String(128), nullable=False),
)

_ENTRY_COLUMNS = [c.name for c in entries.columns]


# Read or written for every event, built once: SQLAlchemy finds a statement it has seen
# in its compiled cache without building and hashing it again.
_ENTRY_OF_SOURCE = select(entries.c.entry_id).where(entries.c.source_key == bindparam("b_key"))
_INCIDENT = select(incidents).where(incidents.c.incident_id == bindparam("b_id"))
_CHANGE_INCIDENT = update(incidents).where(incidents.c.incident_id == bindparam("b_id"))
_INCIDENT_IDS = select(incidents.c.incident_id)


async def has_source(session: Session, source_key: str) -> bool:
    return await entry_of_source(session, source_key) is not None


async def entry_of_source(session: Session, source_key: str) -> str | None:
    """The id of the entry booked for ``source_key``, if any."""
    found = await session.execute(_ENTRY_OF_SOURCE, {"b_key": source_key})
    return found.scalar_one_or_none()


async def has_penalty(session: Session, penalty_id: str) -> bool:
    return await has_source(session, penalty_id)


async def add_entry(session: Session, entry: Entry) -> None:
    values = {name: getattr(entry, name) for name in _ENTRY_COLUMNS if name != "source_key"}
    await session.execute(insert(entries).values(**values, source_key=entry.key()))
    await session.execute(insert(lines), [
        {"entry_id": entry.entry_id, "line_no": n, "account": line.account,
         "debit": line.debit, "credit": line.credit}
        for n, line in enumerate(entry.lines, start=1)])


async def find_entries(session: Session, *, month: str | None = None,
                       incident_id: str | None = None, limit: int | None = None,
                       offset: int = 0, entry_id: str | None = None,
                       services: frozenset[str] | None = None) -> list[Entry]:
    """Entries, newest first, with their lines; only those of ``services`` if given."""
    query = select(entries).where(*_entry_filters(month=month, incident_id=incident_id,
                                                  entry_id=entry_id, services=services))
    query = query.order_by(entries.c.posted_at.desc(), entries.c.entry_id.desc())
    if limit is not None:
        query = query.limit(limit)
    if offset:
        query = query.offset(offset)
    rows = list(await session.execute(query))
    by_entry: dict[str, list[Line]] = defaultdict(list)
    ids = [r.entry_id for r in rows]
    for start in range(0, len(ids), 500):
        found = await session.execute(select(lines).where(lines.c.entry_id.in_(
            ids[start:start + 500])).order_by(lines.c.entry_id, lines.c.line_no))
        for ln in found:
            by_entry[ln.entry_id].append(Line(ln.account, ln.debit, ln.credit))
    currency = {r.entry_id: r.currency for r in rows}
    return [Entry(**{name: getattr(r, name) for name in _ENTRY_COLUMNS}
                  | {"amount": in_minor_unit(r.amount, r.currency)},
                  lines=tuple(Line(ln.account, in_minor_unit(ln.debit, currency[r.entry_id]),
                                   in_minor_unit(ln.credit, currency[r.entry_id]))
                              for ln in by_entry[r.entry_id])) for r in rows]


async def count_entries(session: Session, *, month: str | None = None,
                        incident_id: str | None = None,
                        services: frozenset[str] | None = None) -> int:
    """How many entries ``find_entries`` would return without limit and offset."""
    query = select(func.count()).select_from(entries).where(*_entry_filters(
        month=month, incident_id=incident_id, entry_id=None, services=services))
    return int((await session.execute(query)).scalar_one())


def _entry_filters(*, month: str | None, incident_id: str | None, entry_id: str | None,
                   services: frozenset[str] | None) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if services is not None:
        found.append(entries.c.service.in_(sorted(services)))
    if entry_id is not None:
        found.append(entries.c.entry_id == entry_id)
    if month is not None:
        found.append(entries.c.period == month)
    if incident_id is not None:
        found.append(entries.c.incident_id == incident_id)
    return found


async def entries_in(session: Session, month: str) -> list[Entry]:
    return await find_entries(session, month=month)


async def get_entry(session: Session, entry_id: str) -> Entry | None:
    rows = await session.execute(select(entries.c.entry_id).where(entries.c.entry_id == entry_id))
    if rows.first() is None:
        return None
    found = await find_entries(session, entry_id=entry_id)
    return found[0] if found else None


_PERIODS_LOCK = 0x5045_5249_4F44  # "PERIOD": what every finance replica agrees on


async def hold_periods(session: Session, *, closing: bool) -> None:
    """Until this transaction ends: postings share the ledger's periods, closing one takes
    them alone. A posting that read a month as open commits before that month closes,
    and one that starts while it closes reads it closed (PostgreSQL; SQLite has one
    writer at a time already)."""
    if session.dialect.name == "postgresql":
        lock = "pg_advisory_xact_lock" if closing else "pg_advisory_xact_lock_shared"
        await session.execute(text(f"SELECT {lock}(:key)"), {"key": _PERIODS_LOCK})


async def closed_periods(session: Session) -> dict[str, Any]:
    rows = await session.execute(select(periods))
    return {r.month: r for r in rows}


async def close_period(session: Session, month: str, at: Any, actor: str) -> bool:
    if month in await closed_periods(session):
        return False
    await session.execute(insert(periods).values(month=month, closed_at=at, closed_by=actor))
    return True


async def entry_counts(session: Session) -> dict[str, int]:
    rows = await session.execute(select(entries.c.period, func.count()).group_by(
        entries.c.period))
    return {period: count for period, count in rows.all()}


async def balances(session: Session) -> dict[tuple[str, str], Decimal]:
    """Debit minus credit per (account, currency), summed exactly in Python."""
    rows = await session.execute(select(lines.c.account, lines.c.debit, lines.c.credit,
                                        entries.c.currency)
                                 .join(entries, entries.c.entry_id == lines.c.entry_id))
    found: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for r in rows:
        found[(r.account, r.currency)] += r.debit - r.credit
    return {key: in_minor_unit(amount, key[1]) for key, amount in found.items()}


async def bookings_in(session: Session, month: str) -> list[Booking]:
    """Supplier, service, currency and amount of every entry in ``month``.

    Summed in Python: exact Decimal on every dialect (SQLite's SUM would use floats).
    """
    rows = await session.execute(
        select(entries.c.supplier, entries.c.service, entries.c.currency, entries.c.amount)
        .where(entries.c.period == month, entries.c.kind == "penalty"))
    return [(r.supplier, r.service, r.currency, in_minor_unit(r.amount, r.currency))
            for r in rows]


async def add_incidents(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Follow these incidents (``incident_id``, ``service``, ``priority``,
    ``opened_at``); one already followed is left as it is. Two statements for the lot."""
    known = {r.incident_id for r in await select_in(
        session, _INCIDENT_IDS, incidents.c.incident_id, [r["incident_id"] for r in rows])}
    new = list({r["incident_id"]: r for r in rows if r["incident_id"] not in known}.values())
    if new:
        await session.execute(insert(incidents), new)


async def update_incident(session: Session, incident_id: str, **values: Any) -> None:
    await session.execute(_CHANGE_INCIDENT, {**values, "b_id": incident_id})


async def get_incident(session: Session, incident_id: str) -> Any:
    return (await session.execute(_INCIDENT, {"b_id": incident_id})).first()
