"""A service's own database: its tables plus the kit's inbox, outbox and timers
(``tables.py``).

One ``Transaction`` (``transaction.py``) is one unit of work: the inbox records which
messages were handled, the outbox holds the events that work produced, and both commit
with the state change or not at all.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import MetaData, event, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from .clock import Clock, SystemClock
from .tables import (
    IN_CHUNK,
    UtcDateTime,
    inbox_table,
    kit_metadata,
    outbox_table,
    select_in,
    timers_table,
)
from .transaction import NewTimer, OutboxMessage, Transaction, subject_of

__all__ = ["IN_CHUNK", "NewTimer", "OutboxMessage", "Store", "Transaction", "UtcDateTime",
           "inbox_table", "kit_metadata", "outbox_table", "select_in", "subject_of",
           "timers_table"]


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
