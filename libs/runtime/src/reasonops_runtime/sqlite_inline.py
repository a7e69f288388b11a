"""SQLite without a thread per connection (ADR 45).

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
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Generator
from typing import Any

import aiosqlite

__all__ = ["InlineConnection", "connect"]


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
