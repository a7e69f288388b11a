"""SQLite statements run on the event loop (ADR 45): no thread per connection, and the
stores of one process on one file take turns before writing, never waiting for each
other in SQLite's busy handler (which would hold the loop the other needs)."""

import asyncio
import threading

from sqlalchemy import select

from reasonops_runtime import sqlite_inline
from reasonops_runtime.store import Store, inbox_table


async def test_a_store_on_a_file_starts_no_thread(tmp_path):
    before = threading.active_count()
    store = Store(f"sqlite+aiosqlite:///{tmp_path / 'one.db'}")
    await store.create_all()
    async with store.transaction() as tx:
        assert await tx.claim("probe", ["m-1"]) == {"m-1"}
    assert threading.active_count() == before
    await store.close()


async def test_two_stores_of_one_process_on_one_file_take_turns(tmp_path, monkeypatch):
    monkeypatch.setattr(sqlite_inline, "SQLITE_BUSY_SECONDS", 1)  # a wait would fail fast
    url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    first, second = Store(url), Store(url)
    await first.create_all()
    holding = asyncio.Event()

    async def slow_writer() -> None:
        async with first.transaction() as tx:
            await tx.claim("probe", ["first"])
            holding.set()
            await asyncio.sleep(0.3)  # the write lock is held across an await

    async def other_writer() -> None:
        await holding.wait()
        async with second.transaction() as tx:
            await tx.claim("probe", ["second"])

    await asyncio.wait_for(asyncio.gather(slow_writer(), other_writer()), timeout=10)
    async with second.read() as session:
        claimed = (await session.execute(select(inbox_table.c.message_id))).scalars().all()
    assert sorted(claimed) == ["first", "second"]
    await first.close()
    await second.close()
