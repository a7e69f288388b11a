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
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Generator
from typing import Any

import aiosqlite
from sqlalchemy import Engine, QueuePool, create_engine

__all__ = ["InlineConnection", "connect", "engine"]


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


def connect(database: str, *, timeout: float) -> Callable[[], Any]:
    """An ``async_creator`` for SQLAlchemy: connections to ``database`` (a path)."""
    async def create() -> InlineConnection:
        return await InlineConnection(
            lambda: sqlite3.connect(database, timeout=timeout, check_same_thread=False),
            64)
    return create


def engine(database: str, *, timeout: float) -> Engine:
    """A synchronous engine on the SQLite file ``database``. Its pool never makes a
    caller wait for a connection (a wait would hold the event loop, and with it whoever
    holds the connections): beyond five kept, each is opened for its user and closed."""
    return create_engine(
        "sqlite://", poolclass=QueuePool, pool_size=5, max_overflow=-1,
        creator=lambda: sqlite3.connect(database, timeout=timeout, check_same_thread=False))
