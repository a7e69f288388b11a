"""A service's own database: its tables plus the kit's inbox, outbox and timers
(``tables.py``).

One ``Transaction`` (``transaction.py``) is one unit of work: the inbox records which
messages were handled, the outbox holds the events that work produced, and both commit
with the state change or not at all.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Executable, MetaData, Row, delete, event, make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from . import sqlite_inline
from .clock import Clock, SystemClock
from .migrations import HEAD, SchemaSet, migrate, status
from .session import Session, SyncSession
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

__all__ = ["IN_CHUNK", "NewTimer", "OutboxMessage", "Session", "Store", "Transaction",
           "UtcDateTime", "inbox_table", "kit_metadata", "outbox_table", "select_in",
           "subject_of", "timers_table"]


class SchemaBehind(RuntimeError):
    """The database has not been migrated to this release's schema and may not be used."""


class Store:
    """Engine, units of work and the kit tables for one service's database."""

    def __init__(self, url: str, *metadata: MetaData, clock: Clock | None = None,
                 sqlite_synchronous: str = "NORMAL") -> None:
        self.url = url
        self.clock: Clock = clock or SystemClock()
        self.metadata = (kit_metadata, *metadata)
        self.engine: AsyncEngine = create_async_engine(url, **_engine_options(url))
        self._sqlite = url.startswith("sqlite")
        self._file = sqlite_inline.file_of(url) if self._sqlite else None
        self._write_turn = asyncio.Lock()
        self.timer_listeners: list[Callable[[datetime], None]] = []
        """Told the earliest due time of the timers each committed transaction armed."""
        self._writer: asyncio.Task[Any] | None = None
        if self._sqlite:
            if sqlite_synchronous not in sqlite_inline.SYNCHRONOUS:
                raise ValueError(f"sqlite_synchronous: {sqlite_synchronous!r} is not one of "
                                 f"{', '.join(sqlite_inline.SYNCHRONOUS)}")
            event.listen(self.engine.sync_engine, "connect",
                         functools.partial(sqlite_inline.pragmas, sqlite_synchronous))
        self._inline: Engine | None = None
        """On a SQLite file, the engine units of work and reads run on: synchronous, its
        statements run where they are awaited (``sqlite_inline``, ADR 0053). The async
        engine then only migrates."""
        if self._file is not None:
            self._inline = sqlite_inline.engine(self._file,
                                                timeout=sqlite_inline.SQLITE_BUSY_SECONDS)
            event.listen(self._inline, "connect",
                         functools.partial(sqlite_inline.pragmas, sqlite_synchronous))
        # A query that reads two tables must not see a write land between them (a breach
        # without its penalty, say): PostgreSQL's READ COMMITTED takes a snapshot per
        # statement, so reads run REPEATABLE READ, one snapshot for the whole session.
        self._reader = (self.engine if self._sqlite
                        else self.engine.execution_options(isolation_level="REPEATABLE READ"))

    def time_statements(self, observe: Callable[[float], None]) -> None:
        """Call ``observe(seconds)`` for every statement this store's engine runs."""
        def started(_conn: Any, _cursor: Any, _statement: str, _parameters: Any,
                    context: Any, _executemany: bool) -> None:
            if context is not None:
                context.reasonops_started = time.perf_counter()

        def ended(_conn: Any, _cursor: Any, _statement: str, _parameters: Any,
                  context: Any, _executemany: bool) -> None:
            began = getattr(context, "reasonops_started", None)
            if began is not None:
                observe(time.perf_counter() - began)

        self.listen("before_cursor_execute", started)
        self.listen("after_cursor_execute", ended)

    def listen(self, identifier: str, fn: Callable[..., Any]) -> None:
        """``sqlalchemy.event.listen`` on every engine this store's statements run on."""
        for engine in (self.engine.sync_engine, self._inline):
            if engine is not None:
                event.listen(engine, identifier, fn)

    async def migrate(self, target: str = HEAD) -> dict[str, tuple[str | None, str | None]]:
        """Bring every set of tables here to ``target`` (see ``migrations``); what each set's
        revision was and now is. Replicas starting together take turns: on PostgreSQL an
        advisory lock held by the migrating transaction; SQLite's file lock otherwise."""
        async with self.engine.begin() as conn:
            if not self._sqlite:
                await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                   {"key": _MIGRATION_LOCK})
            else:
                await conn.execute(text("BEGIN IMMEDIATE"))
            return await conn.run_sync(migrate, self.metadata, target)

    async def ready(self, owner: str, *, migrate: bool) -> None:
        """Before ``owner`` uses this database: create and migrate it, or (where a separate
        step migrates) refuse a schema that is not this release's, naming the command."""
        if migrate:
            await self.ensure_database()
            await self.migrate()
            return
        behind = {name: current for name, (current, head)
                  in (await self.schema_status()).items() if current != head}
        if behind:
            where = ", ".join(f"{name} at {current or 'nothing'}"
                              for name, current in behind.items())
            raise SchemaBehind(f"{owner}: the database's schema is not this release's "
                               f"({where}); run `reasonops migrate {owner}` first")

    async def ensure_database(self) -> bool:
        """Create this store's PostgreSQL database when it does not exist yet (through the
        server's ``postgres`` database, as the same user); whether it did. SQLite creates
        its file by itself."""
        if self._sqlite:
            return False
        try:
            async with self.engine.connect():
                return False
        except Exception as exc:
            if getattr(exc, "sqlstate", None) != "3D000" and "does not exist" not in str(exc):
                raise  # not a missing database: unreachable, refused, ...
        url = make_url(self.url)
        admin = create_async_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        try:
            async with admin.connect() as conn:
                quoted = conn.dialect.identifier_preparer.quote(str(url.database))
                await conn.execute(text(f"CREATE DATABASE {quoted}"))
        except Exception as exc:
            if getattr(exc, "sqlstate", None) != "42P04" and "already exists" not in str(exc):
                raise  # 42P04: a replica created it first
        finally:
            await admin.dispose()
        log.info("database created", extra={"database": url.database})
        return True

    async def schema_status(self) -> dict[str, tuple[str | None, str | None]]:
        """(current revision, head revision) of every set of tables here."""
        async with self.engine.connect() as conn:
            return await conn.run_sync(status, self.metadata)

    async def create_all(self) -> None:
        """Today's tables straight from the code (for tests), recorded as at the head of
        their revisions, which build the same tables; services ``migrate``."""
        async with self.engine.begin() as conn:
            for md in self.metadata:
                await conn.run_sync(md.create_all)
                if "migrations" in md.info:
                    await conn.run_sync(SchemaSet.of(md).stamp_head)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        # A Core connection, not an ORM session: every statement here is Core, and the
        # session's execution path cost a fifth of a small transaction (ADR 0052).
        async with self._writing():
            if self._inline is not None:
                with self._inline.connect() as connection, connection.begin():
                    tx = Transaction(SyncSession(connection), self.clock)
                    yield tx
                    await tx._flush_outbox()
            else:
                async with self.engine.connect() as session, session.begin():
                    tx = Transaction(session, self.clock)
                    yield tx
                    await tx._flush_outbox()
        if tx.earliest_armed is not None:
            for listener in self.timer_listeners:
                listener(tx.earliest_armed)
        for callback in tx._committed:
            callback()

    def _turn(self) -> asyncio.Lock:
        return self._write_turn if self._file is None else sqlite_inline.write_turn(self._file)

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[None]:
        """SQLite has one writer at a time: this process's transactions take turns here
        rather than in SQLite's busy handler, which sleeps up to 100 ms a try whenever
        two of them (a consumer's batch and a timer, say) meet, and which would hold the
        event loop (``sqlite_inline``): every store of the process on the same file takes
        the same turn. A transaction opened inside another of the same task does not wait
        for itself."""
        task = asyncio.current_task()
        if not self._sqlite or self._writer is task:
            yield
            return
        async with self._turn():
            self._writer = task
            try:
                yield
            finally:
                self._writer = None

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Session]:
        """A session whose statements all see the same committed state of the database."""
        if self._inline is not None:
            with self._inline.connect() as connection:
                connection.exec_driver_sql("BEGIN")  # as below
                yield SyncSession(connection)
            return
        async with self._reader.connect() as session:
            if self._sqlite:
                # The driver only opens transactions for writes, so each SELECT would see
                # its own state; a deferred BEGIN pins the first SELECT's snapshot (WAL
                # readers block no writer). Closing the connection rolls it back.
                await session.execute(text("BEGIN"))
            yield session

    async def rows(self, statement: Executable) -> list[Row[Any]]:
        """Every row of one statement, which sees one committed state of the database by
        itself: no session and no transaction around it (a hot query's two round trips
        fewer than ``read``; what reads two statements needs ``read``)."""
        if self._inline is not None:
            with self._inline.connect() as connection:
                return list(connection.execute(statement).all())
        async with self._reader.connect() as conn:
            return list((await conn.execute(statement)).all())

    async def prune_inbox(self, before: datetime) -> int:
        """Forget which messages were handled before ``before`` (older than anything the
        broker can still redeliver); how many rows went."""
        async with self.transaction() as tx:
            result = await tx.session.execute(
                delete(inbox_table).where(inbox_table.c.processed_at < before))
        return int(getattr(result, "rowcount", 0) or 0)

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def close(self) -> None:
        await self.engine.dispose()
        if self._inline is not None:
            self._inline.dispose()


log = logging.getLogger(__name__)

_MIGRATION_LOCK = 0x5245_4153_4F4E  # any constant every ReasonOps process agrees on


def _engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        path = sqlite_inline.file_of(url)
        if path is None:  # in memory: aiosqlite's own connections
            return {"connect_args": {"timeout": sqlite_inline.SQLITE_BUSY_SECONDS}}
        return {"async_creator": sqlite_inline.connect(
            path, timeout=sqlite_inline.SQLITE_BUSY_SECONDS)}
    return {"pool_size": 5, "max_overflow": 5, "pool_pre_ping": True}
