"""A service's own database: its tables plus the kit's inbox, outbox and timers.

One ``Transaction`` is one unit of work: the inbox records which messages were
handled, the outbox holds the events that work produced, and both commit with the
state change or not at all.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AbstractContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from opentelemetry.trace import Span
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
    delete,
    event,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.types import TypeDecorator

from reasonops_contracts import Envelope
from reasonops_contracts.registry import EVENTS

from . import tracing
from .clock import Clock, SystemClock


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


kit_metadata = MetaData()

inbox_table = Table(
    "kit_inbox",
    kit_metadata,
    Column("consumer", String(128), primary_key=True),
    Column("message_id", String(64), primary_key=True),
    Column("processed_at", UtcDateTime(), nullable=False),
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


async def select_in(session: AsyncSession, query: Select[Any], column: ColumnElement[Any],
                    keys: Iterable[Any]) -> list[Row[Any]]:
    """Rows of ``query`` whose ``column`` is one of ``keys``, in chunks of IN_CHUNK."""
    unique = list(dict.fromkeys(keys))
    rows: list[Row[Any]] = []
    for start in range(0, len(unique), IN_CHUNK):
        result = await session.execute(query.where(column.in_(unique[start:start + IN_CHUNK])))
        rows.extend(result.all())
    return rows


@dataclass(frozen=True)
class OutboxMessage:
    message_id: str
    subject: str
    payload: bytes
    trace_context: str | None = None


@dataclass(frozen=True)
class NewTimer:
    """A timer armed in bulk with ``Transaction.schedule_new``."""

    timer_id: str
    kind: str
    due_at: datetime
    payload: dict[str, Any]
    correlation_id: str | None = None
    causation_id: str | None = None


def subject_of(envelope: Envelope) -> str:
    """The subject ``envelope``'s event is published on, from the contracts."""
    model = EVENTS.get(envelope.type)
    if model is None:
        raise KeyError(f"{envelope.type}: not an event of the contracts; give its subject")
    if model.SUBJECT.endswith((">", "*")):
        raise ValueError(f"{envelope.type} is published on subjects matching "
                         f"{model.SUBJECT}; give the subject")
    return model.SUBJECT


class Transaction:
    """The unit of work handed to handlers."""

    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self.session = session
        self.clock = clock
        self.emitted: list[OutboxMessage] = []
        self.trace_parents: dict[str, str] = {}
        """Message id -> the ``traceparent`` its effects continue (set by the consumer)."""
        # Asked once per unit of work, not per effect: with OTEL unset it costs an
        # environment lookup, and a batch asks for each of its messages.
        self._tracing = tracing.enabled()

    def emit(self, envelope: Envelope, subject: str | None = None, *,
             caused_by: str | None = None) -> None:
        """Publish ``envelope`` if, and only if, this transaction commits: on its event's
        subject (the contracts' registry), or on ``subject`` where the event's is a
        pattern (a dead letter's, a raw alert's). Its ``time`` is the service clock's now.

        ``caused_by`` names the message (inbox key) this event is an effect of when the
        envelope's ``causation_id`` does not (e.g. events made from a raw payload), so
        the event continues that message's trace.
        """
        subject = subject or subject_of(envelope)
        now = self.clock.now()
        if envelope.time != now:  # stamped by the service's clock (a test's, a simulation's)
            envelope = envelope.model_copy(update={"time": now})
        parent = self.trace_of(caused_by or envelope.causation_id)
        if parent is not None:
            self.trace_parents[envelope.id] = parent  # an event caused by this one follows
        self.emitted.append(OutboxMessage(envelope.id, subject, envelope.to_bytes(), parent))

    def trace_of(self, causation_id: str | None) -> str | None:
        """The trace an effect of ``causation_id`` belongs to: the active span (a domain
        span, a command, a timer), else the span of the message that caused it."""
        active = tracing.current_traceparent() if self._tracing else None
        if active is not None:
            return active
        return self.trace_parents.get(causation_id) if causation_id else None

    def span(self, name: str, *, cause: Envelope | None = None,
             attributes: dict[str, Any] | None = None) -> AbstractContextManager[Span]:
        """A domain span (e.g. a correlation decision) under the span of the message
        ``cause``; a no-op when tracing is off."""
        parent = self.trace_parents.get(cause.id) if cause is not None else None
        return tracing.span(name, parent=parent, attributes=attributes)

    async def claim(self, consumer: str, message_ids: Sequence[str]) -> set[str]:
        """Record ``message_ids`` as handled by ``consumer``; return those not handled before."""
        unique = list(dict.fromkeys(message_ids))
        if not unique:
            return set()
        rows = await select_in(
            self.session,
            select(inbox_table.c.message_id).where(inbox_table.c.consumer == consumer),
            inbox_table.c.message_id, unique)
        seen = {row.message_id for row in rows}
        fresh = [m for m in unique if m not in seen]
        if fresh:
            now = datetime.now(UTC)
            await self.session.execute(
                insert(inbox_table),
                [{"consumer": consumer, "message_id": m, "processed_at": now} for m in fresh],
            )
        return set(fresh)

    async def schedule(self, timer_id: str, kind: str, due_at: datetime, payload: dict[str, Any],
                       *, correlation_id: str | None = None,
                       causation_id: str | None = None) -> None:
        """Arm (or re-arm) a durable timer; it fires once, at or after ``due_at``, even
        across restarts."""
        await self.cancel(timer_id)
        await self.session.execute(insert(timers_table).values(
            timer_id=timer_id, kind=kind, due_at=due_at, payload=payload,
            correlation_id=correlation_id, causation_id=causation_id,
            trace_context=self.trace_of(causation_id),
        ))

    async def schedule_new(self, timers: Sequence[NewTimer]) -> None:
        """Arm many timers whose ids are new by construction, in one statement."""
        if timers:
            await self.session.execute(insert(timers_table), [
                {"timer_id": t.timer_id, "kind": t.kind, "due_at": t.due_at,
                 "payload": t.payload, "correlation_id": t.correlation_id,
                 "causation_id": t.causation_id, "trace_context": self.trace_of(t.causation_id)}
                for t in timers])

    async def cancel(self, timer_id: str) -> bool:
        result = await self.session.execute(
            delete(timers_table).where(timers_table.c.timer_id == timer_id)
        )
        return bool(getattr(result, "rowcount", 0))

    async def cancel_many(self, timer_ids: Iterable[str]) -> None:
        """Cancel every timer of ``timer_ids`` that is armed, in statements of IN_CHUNK."""
        ids = list(dict.fromkeys(timer_ids))
        for start in range(0, len(ids), IN_CHUNK):
            await self.session.execute(delete(timers_table).where(
                timers_table.c.timer_id.in_(ids[start:start + IN_CHUNK])))

    async def _flush_outbox(self) -> None:
        if self.emitted:
            now = datetime.now(UTC)
            await self.session.execute(
                insert(outbox_table),
                [{"message_id": m.message_id, "subject": m.subject, "payload": m.payload,
                  "created_at": now, "trace_context": m.trace_context} for m in self.emitted],
            )


class Store:
    """Engine, sessions and the kit tables for one service's database."""

    def __init__(self, url: str, *metadata: MetaData, clock: Clock | None = None) -> None:
        self.url = url
        self.clock: Clock = clock or SystemClock()
        self.metadata = (kit_metadata, *metadata)
        self.engine: AsyncEngine = create_async_engine(url, **_engine_options(url))
        self._sqlite = url.startswith("sqlite")
        self._write_turn = asyncio.Lock()
        self._writer: asyncio.Task[Any] | None = None
        if self._sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # A query that reads two tables must not see a write land between them (a breach
        # without its penalty, say): PostgreSQL's READ COMMITTED takes a snapshot per
        # statement, so reads run REPEATABLE READ, one snapshot for the whole session.
        self._reader = (self.engine if self._sqlite
                        else self.engine.execution_options(isolation_level="REPEATABLE READ"))

    async def create_all(self) -> None:
        async with self.engine.begin() as conn:
            for md in self.metadata:
                await conn.run_sync(md.create_all)
            await conn.run_sync(_add_missing_kit_columns)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        async with self._writing(), self.sessions() as session, session.begin():
            tx = Transaction(session, self.clock)
            yield tx
            await tx._flush_outbox()

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[None]:
        """SQLite has one writer at a time: this process's transactions take turns here
        rather than in SQLite's busy handler, which sleeps up to 100 ms a try whenever
        two of them (a consumer's batch and a timer, say) meet. A transaction opened
        inside another of the same task does not wait for itself."""
        task = asyncio.current_task()
        if not self._sqlite or self._writer is task:
            yield
            return
        async with self._write_turn:
            self._writer = task
            try:
                yield
            finally:
                self._writer = None

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session whose statements all see the same committed state of the database."""
        async with self.sessions(bind=self._reader) as session:
            if self._sqlite:
                # The driver only opens transactions for writes, so each SELECT would see
                # its own state; a deferred BEGIN pins the first SELECT's snapshot (WAL
                # readers block no writer). Closing the session rolls it back.
                await session.execute(text("BEGIN"))
            yield session

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def close(self) -> None:
        await self.engine.dispose()


def _add_missing_kit_columns(conn: Connection) -> None:
    """Columns added to the kit tables after a database was created (nullable only)."""
    inspector = inspect(conn)
    for table in kit_metadata.sorted_tables:
        present = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in present and column.nullable:
                kind = column.type.compile(dialect=conn.dialect)
                conn.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {column.name} {kind}"))


def _engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30}}
    return {"pool_size": 5, "max_overflow": 5, "pool_pre_ping": True}


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets readers (queries, readiness) run while a batch writes; NORMAL
    # synchronous is durable across process crashes, which is what we test.
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
