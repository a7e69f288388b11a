"""The kit's tables under migrations: built from nothing, adopted from a database that
``create_all`` made before migrations existed, moved back and forward with their rows,
and the inbox pruned after a retention no redelivery outlives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from reasonops_contracts.streams import DAY, DEADLETTER, FINANCE, INCIDENTS
from reasonops_runtime.retention import inbox_retention
from reasonops_runtime.store import Store, inbox_table

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


async def indexes(store: Store, table: str) -> set[str]:
    async with store.engine.connect() as conn:
        return await conn.run_sync(
            lambda c: {ix["name"] for ix in sa.inspect(c).get_indexes(table)})


async def test_an_empty_database_is_built_to_the_head(database_url):
    store = Store(database_url)
    try:
        assert await store.migrate() == {"kit": (None, "0002")}
        assert await store.schema_status() == {"kit": ("0002", "0002")}
        assert await store.migrate() == {"kit": ("0002", "0002")}  # nothing left to do
        assert "ix_kit_inbox_processed" in await indexes(store, "kit_inbox")
    finally:
        await store.close()


async def test_a_database_from_before_migrations_is_adopted_with_its_rows(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    engine = create_async_engine(url)
    async with engine.begin() as conn:  # the kit's tables as first released, with a row
        await conn.execute(sa.text(
            "CREATE TABLE kit_inbox (consumer VARCHAR(128) NOT NULL, message_id VARCHAR(64)"
            " NOT NULL, processed_at DATETIME NOT NULL, PRIMARY KEY (consumer, message_id))"))
        await conn.execute(sa.text(
            "INSERT INTO kit_inbox VALUES ('incidents', 'm-1', '2026-11-30 10:00:00')"))
        await conn.execute(sa.text(
            "CREATE TABLE kit_outbox (seq INTEGER PRIMARY KEY, message_id VARCHAR(64) NOT NULL"
            " UNIQUE, subject VARCHAR(256) NOT NULL, payload BLOB NOT NULL,"
            " created_at DATETIME NOT NULL)"))
    await engine.dispose()

    store = Store(url)
    try:
        assert await store.migrate() == {"kit": (None, "0002")}
        async with store.read() as session:
            columns = await session.run_sync(lambda s: {
                c["name"] for c in sa.inspect(s).get_columns("kit_outbox")})
            assert "trace_context" in columns  # added since, nullable
            assert (await session.execute(sa.select(inbox_table.c.message_id))
                    ).scalars().all() == ["m-1"]
            assert await session.run_sync(
                lambda s: sa.inspect(s).has_table("kit_timers"))
    finally:
        await store.close()


async def test_back_to_an_earlier_revision_and_forward(database_url):
    store = Store(database_url)
    try:
        await store.migrate()
        assert await store.migrate("0001") == {"kit": ("0002", "0001")}
        assert "ix_kit_inbox_processed" not in await indexes(store, "kit_inbox")
        assert await store.migrate() == {"kit": ("0001", "0002")}
        with pytest.raises(Exception, match="0009"):
            await store.migrate("0009")
        assert await store.schema_status() == {"kit": ("0002", "0002")}
    finally:
        await store.close()


async def test_the_inbox_forgets_only_what_is_older_than_the_retention(database_url):
    store = Store(database_url)
    await store.migrate()
    try:
        async with store.transaction() as tx:
            await tx.session.execute(sa.insert(inbox_table), [
                {"consumer": "c", "message_id": "old", "processed_at": NOW - timedelta(days=92)},
                {"consumer": "c", "message_id": "new", "processed_at": NOW - timedelta(days=1)}])
        assert await store.prune_inbox(NOW - timedelta(days=91)) == 1
        async with store.transaction() as tx:  # the kept one is still a duplicate
            assert await tx.claim("c", ["old", "new"]) == {"old"}
    finally:
        await store.close()


def test_the_retention_outlives_every_redelivery_and_replay():
    assert inbox_retention([], None) is None  # consumes nothing, remembers nothing
    assert inbox_retention([INCIDENTS], None) == timedelta(
        days=DEADLETTER.max_age_seconds // DAY + 1)  # a dead letter replayed on its last day
    assert inbox_retention([INCIDENTS, FINANCE], None) == timedelta(
        days=FINANCE.max_age_seconds // DAY + 1)
    assert inbox_retention([INCIDENTS], 120) == timedelta(days=120)
    with pytest.raises(ValueError, match="inbox_retention_days: 30 is shorter than the 90"):
        inbox_retention([INCIDENTS], 30)


async def test_a_service_that_does_not_migrate_refuses_an_old_schema(database_url):
    """Where a Job migrates (Kubernetes), a pod of the new release waits for it."""
    from reasonops_runtime.store import SchemaBehind

    store = Store(database_url)
    try:
        await store.migrate("0001")
        with pytest.raises(SchemaBehind, match=r"kit at 0001.*run `reasonops migrate "
                                               "incidents` first"):
            await store.ready("incidents", migrate=False)
        await store.ready("incidents", migrate=True)
        await store.ready("incidents", migrate=False)  # now this release's: it may start
    finally:
        await store.close()
