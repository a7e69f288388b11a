"""A change asked for while a push finishes is never lost: either the finished push
sees it (and stays due) or the change asks afresh (SQLite and PostgreSQL)."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from reasonops_runtime.store import Store
from reasonops_servicenow import store

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


@pytest.fixture
async def db(database_url):
    s = Store(database_url, store.metadata)
    await s.create_all()
    yield s
    await s.close()


async def row(db, incident_id):
    async with db.read() as session:
        return (await session.execute(select(store.pushes).where(
            store.pushes.c.incident_id == incident_id))).first()


async def test_wants_add_up_keep_their_time_and_force_sticks(db):
    async with db.transaction() as tx:
        await store.want_pushes(tx.session, ["INC1", "INC1", "INC2"], NOW)
    async with db.transaction() as tx:
        await store.want_pushes(tx.session, ["INC1"], NOW + timedelta(minutes=5), force=True)
        await store.want_pushes(tx.session, ["INC2"], NOW + timedelta(minutes=5))
    one, two = await row(db, "INC1"), await row(db, "INC2")
    assert (one.wanted, one.force, one.due_at) == (3, True, NOW)
    assert (two.wanted, two.force, two.due_at) == (2, False, NOW)


async def test_a_change_racing_the_end_of_its_push_is_pushed(db):
    """Each round: a claimed push (one change seen) finishes while another change asks
    for a push, in two transactions side by side; a push must be left to do."""
    for n in range(40):
        incident_id = f"INC{n}"
        async with db.transaction() as tx:
            await store.want_pushes(tx.session, [incident_id], NOW)
            [claim] = await store.claim_due(tx.session, NOW, owner="a",
                                            lease_until=NOW + timedelta(minutes=1), limit=1)

        async def finish(claim=claim) -> None:
            async with db.transaction() as tx:
                await store.finish_pushes(tx.session, [claim], NOW)

        async def change(incident_id=incident_id) -> None:
            async with db.transaction() as tx:
                await store.want_pushes(tx.session, [incident_id], NOW)

        await asyncio.gather(change(), finish())
        assert await row(db, incident_id) is not None, f"round {n}: the change was lost"
