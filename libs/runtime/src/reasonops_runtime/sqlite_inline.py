"""SQLite without a thread per connection (ADR 45), and without a greenlet (ADR 53).

aiosqlite hands every call (a cursor, a statement, a fetch, a commit) to its
connection's thread and waits for the answer on the event loop. On a local file a
statement takes microseconds; the hand-over and back took about 100 µs of CPU each
(waking the thread, the GIL changing hands, the loop's self-pipe), six of them for a
transaction of one statement: a consumer's batch cost ~1 ms of CPU before any work of
its own. Here the same connection class runs each call where it is awaited.

What that changes: a statement holds the event loop while it runs. Statements on a
service's own file are short; a write waiting for another process's write lock (two
processes on one file) waits in SQLite's busy handler without yielding. Stores of one
process on one file take turns in ``Store._writing`` before their first write, so they
never wait for each other there.

Units of work and reads go further (ADR 53): ``engine`` is a synchronous engine on the
file, whose statements ``session.SyncSession`` runs where they are awaited. SQLAlchemy's
async layer ran each statement in a new greenlet and switched to the event loop and
back for every call into the driver, though the call returned at once; without it a
simulated week of history took a quarter less CPU. ``InlineConnection`` serves the async
engine, which now only migrates and answers the tests.

The pragmas every connection gets, the busy timeout and the write turn are here too:
what a store needs of SQLite that PostgreSQL does not.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Generator
from typing import Any

import aiosqlite
from sqlalchemy import Engine, QueuePool, create_engine, make_url

__all__ = ["SQLITE_BUSY_SECONDS", "SYNCHRONOUS", "InlineConnection", "connect", "engine",
           "file_of", "pragmas", "write_turn"]


class InlineConnection(aiosqlite.Connection):
    """aiosqlite's connection (the API SQLAlchemy's ``aiosqlite`` dialect drives), its
    calls run on the caller's thread; its worker thread is never started."""

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)

    async def _connect(self) -> InlineConnection:
        if self._connection is None:
            self._connection = self._connector()
        return self

    def __await__(self) -> Generator[Any, None, InlineConnection]:
        return self._connect().__await__()

    def stop(self) -> None:  # type: ignore[override]  # no thread to stop
        self._running = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _opener(database: str, timeout: float) -> Callable[[], sqlite3.Connection]:
    """Opens a connection to ``database`` that any thread of the process may use."""
    return lambda: sqlite3.connect(database, timeout=timeout, check_same_thread=False)


def connect(database: str, *, timeout: float) -> Callable[[], Any]:
    """An ``async_creator`` for SQLAlchemy: connections to ``database`` (a path)."""
    async def create() -> InlineConnection:
        return await InlineConnection(_opener(database, timeout), 64)
    return create


def engine(database: str, *, timeout: float) -> Engine:
    """A synchronous engine on the SQLite file ``database``. Its pool never makes a
    caller wait for a connection (a wait would hold the event loop, and with it whoever
    holds the connections): beyond five kept, each is opened for its user and closed."""
    return create_engine(
        "sqlite://", poolclass=QueuePool, pool_size=5, max_overflow=-1,
        creator=_opener(database, timeout))


def file_of(url: str) -> str | None:
    """The file a SQLite URL names; None for a database in memory."""
    database = make_url(url).database
    return None if not database or database == ":memory:" else database


SQLITE_BUSY_SECONDS = 30
_write_turns: dict[tuple[str, int], asyncio.Lock] = {}
"""(SQLite file, event loop) -> the turn every store of this process on that file takes
before writing (``Store._writing``)."""


def write_turn(path: str) -> asyncio.Lock:
    """The turn every store of this process on the file ``path`` takes before writing."""
    loop = asyncio.get_running_loop()
    key = (path, id(loop))
    turn = _write_turns.get(key)
    if turn is None:
        for stale in [k for k in _write_turns if k[0] == path]:
            del _write_turns[stale]  # a closed loop's (tests run a loop each)
        turn = _write_turns[key] = asyncio.Lock()
    return turn


SYNCHRONOUS = ("NORMAL", "FULL", "EXTRA")


def pragmas(synchronous: str, dbapi_conn: Any, _record: Any) -> None:
    """Set on every new connection (a ``connect`` event listener)."""
    # WAL lets readers (queries, readiness) run while a batch writes. NORMAL synchronous
    # survives a crash of the process (what the tests kill) but a power loss or kernel
    # panic may lose the last transactions, whose messages were already acknowledged;
    # FULL syncs the WAL on every commit (see docs/operations.md).
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA synchronous={synchronous}")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
