"""Every set of tables of every installed service: its revisions build exactly the tables
the code declares, on SQLite and PostgreSQL, and go back to the first release's schema and
forward again without losing a row."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection

from reasonops_runtime.migrations import SchemaSet

SERVICES = sorted(ep.name for ep in entry_points(group="reasonops.services"))


def built(name: str, url: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("REASONOPS_DATABASE_URL", url)
    (found,) = [ep for ep in entry_points(group="reasonops.services") if ep.name == name]
    return found.load()()


def differences(conn: Connection, metadata: MetaData) -> list[object]:
    """What the database lacks or has beyond ``metadata``'s tables (other sets ignored)."""
    context = MigrationContext.configure(conn, opts={
        "compare_type": True,
        "include_name": lambda name, kind, _parent: kind != "table" or name in metadata.tables,
    })
    return compare_metadata(context, metadata)


@pytest.mark.parametrize("name", SERVICES)
async def test_the_revisions_build_what_the_code_declares(name, database_url, monkeypatch):
    service = built(name, database_url, monkeypatch)
    store = service.store
    try:
        moved = await store.migrate()
        assert all(was is None for was, _ in moved.values())
        async with store.engine.connect() as conn:
            for metadata in store.metadata:
                assert await conn.run_sync(differences, metadata) == [], (
                    f"{name}: {metadata.info['schema']} tables differ from their revisions; "
                    "a schema change needs a revision")
        status = await store.schema_status()
        assert all(current == head for current, head in status.values()), status
    finally:
        await store.close()


@pytest.mark.parametrize("name", SERVICES)
async def test_back_to_the_first_release_and_forward_keeps_every_row(name, database_url,
                                                                     monkeypatch):
    service = built(name, database_url, monkeypatch)
    store = service.store
    try:
        await store.migrate()
        async with store.transaction() as tx:
            await tx.session.execute(text(
                "INSERT INTO kit_inbox (consumer, message_id, processed_at) "
                "VALUES ('c', 'm1', CURRENT_TIMESTAMP)"))
        await store.migrate("0001")
        assert {n: c for n, (c, _) in (await store.schema_status()).items()} == {
            SchemaSet.of(md).name: "0001" for md in store.metadata}
        await store.migrate()
        async with store.read() as session:
            assert (await session.execute(text("SELECT message_id FROM kit_inbox"))
                    ).scalars().all() == ["m1"]
        status = await store.schema_status()
        assert all(current == head for current, head in status.values()), status
    finally:
        await store.close()


def test_every_set_has_one_head_and_a_first_revision(tmp_path, monkeypatch):
    for name in SERVICES:
        service = built(name, f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}", monkeypatch)
        for metadata in service.store.metadata:
            scripts = SchemaSet.of(metadata).scripts
            assert len(scripts.get_heads()) == 1, (name, metadata.info["schema"])
            assert scripts.get_revision("0001").down_revision is None

