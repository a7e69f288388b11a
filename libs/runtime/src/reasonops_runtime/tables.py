"""The kit's own tables in every service's database (inbox, outbox, timers), the UTC
column type every table uses, and reads by many keys at once."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    ColumnElement,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Row,
    Select,
    String,
    Table,
    bindparam,
)
from sqlalchemy.types import TypeDecorator

from .migrations import schema
from .session import Session


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in Python on every dialect (SQLite keeps naive UTC text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; ReasonOps stores UTC only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    # On SQLite each value went through two converters (this type's, then the dialect's
    # text format, parsed back by a regular expression): on a hot path, a tenth of the
    # incident service's CPU. One function each way writes and reads the same text
    # (``2026-12-04 09:00:00.000000``, what SQLAlchemy's SQLite DATETIME stores).
    def bind_processor(self, dialect: Any) -> Any:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            if value.tzinfo is None:
                raise ValueError("naive datetime given; ReasonOps stores UTC only")
            if value.utcoffset():
                value = value.astimezone(UTC)
            return value.replace(tzinfo=None).isoformat(" ", "microseconds")
        return process

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)

        def process(value: str | None) -> datetime | None:
            if value is None:
                return None
            found = datetime.fromisoformat(value)
            return (found.replace(tzinfo=UTC) if found.tzinfo is None
                    else found.astimezone(UTC))
        return process


kit_metadata = MetaData(info=schema("kit", "reasonops_runtime:revisions"))

inbox_table = Table(
    "kit_inbox",
    kit_metadata,
    Column("consumer", String(128), primary_key=True),
    Column("message_id", String(64), primary_key=True),
    Column("processed_at", UtcDateTime(), nullable=False),
    # Rows older than the retention are pruned (``Store.prune_inbox``).
    Index("ix_kit_inbox_processed", "processed_at"),
)

outbox_table = Table(
    "kit_outbox",
    kit_metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("message_id", String(64), nullable=False, unique=True),
    Column("subject", String(256), nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    # W3C traceparent of the work that produced the event, so the relay continues its trace.
    Column("trace_context", String(128), nullable=True),
)

timers_table = Table(
    "kit_timers",
    kit_metadata,
    Column("timer_id", String(200), primary_key=True),
    Column("kind", String(64), nullable=False),
    Column("due_at", UtcDateTime(), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("correlation_id", String(64), nullable=True),
    Column("causation_id", String(64), nullable=True),
    Column("trace_context", String(128), nullable=True),
    Index("ix_kit_timers_due", "due_at"),
)


IN_CHUNK = 500  # bound parameters per IN (...); SQLite allows 32766, keep statements small


async def select_in(session: Session, query: Select[Any], column: ColumnElement[Any],
                    keys: Iterable[Any], *, lock: bool = False,
                    parameters: Mapping[str, Any] | None = None) -> list[Row[Any]]:
    """Rows of ``query`` whose ``column`` is one of ``keys``, in chunks of IN_CHUNK.

    ``lock``: rows this transaction will write back after deciding on them (read, modify,
    write). PostgreSQL locks them (``FOR UPDATE``) in key order, so a concurrent writer
    of the same rows waits and then reads what this one wrote, and two such readers never
    wait for each other in a circle; SQLite has one writer at a time already.

    A ``query`` built once (a module's constant, with its own values as bind parameters
    given in ``parameters``) is extended once: see ``_in_statement``.
    """
    unique = list(dict.fromkeys(keys))
    if lock:
        unique.sort()
    statement = _in_statement(query, column, lock)
    rows: list[Row[Any]] = []
    for start in range(0, len(unique), IN_CHUNK):
        result = await session.execute(
            statement, {**(parameters or {}), IN_KEYS: unique[start:start + IN_CHUNK]})
        rows.extend(result.all())
    return rows


IN_KEYS = "b_in_keys"
_IN_STATEMENTS: OrderedDict[tuple[int, int, bool],
                            tuple[Select[Any], ColumnElement[Any], Select[Any]]] = OrderedDict()
_IN_REMEMBERED = 256


def _in_statement(query: Select[Any], column: ColumnElement[Any], lock: bool) -> Select[Any]:
    """``query`` for rows whose ``column`` is in a list given at execution.

    SQLAlchemy looks a statement up in its compiled cache by a key it computes from the
    statement's whole structure: for a statement built anew that is most of the cost of
    running it on SQLite (30 of 40 µs for one row by key). The same statement object is
    looked up by the key it remembered. So the extended statement is kept for the query
    object it came from, the last ``_IN_REMEMBERED`` of them (a query built at each call
    only churns that list). The entry holds the query itself, so its ``id`` is not reused
    while remembered.
    """
    key = (id(query), id(column), lock)
    found = _IN_STATEMENTS.get(key)
    if found is not None and found[0] is query and found[1] is column:
        _IN_STATEMENTS.move_to_end(key)
        return found[2]
    statement = query.order_by(column).with_for_update() if lock else query
    statement = statement.where(column.in_(bindparam(IN_KEYS, expanding=True)))
    _IN_STATEMENTS[key] = (query, column, statement)
    if len(_IN_STATEMENTS) > _IN_REMEMBERED:
        _IN_STATEMENTS.popitem(last=False)
    return statement
