from datetime import UTC, datetime

import greenlet
import pytest
from sqlalchemy import func, select

from reasonops_contracts import Envelope
from reasonops_contracts.incidents import IncidentClosed
from reasonops_runtime.store import inbox_table, outbox_table, timers_table


def envelope():
    return Envelope.wrap(IncidentClosed(incident_id="INC0000001", closed_at=datetime.now(UTC),
                                        actor="a"), source="test")


async def count(store, table):
    async with store.read() as session:
        return (await session.execute(select(func.count()).select_from(table))).scalar_one()


async def test_claim_returns_only_messages_not_handled_before(store):
    async with store.transaction() as tx:
        assert await tx.claim("svc", ["a", "b", "a"]) == {"a", "b"}
    async with store.transaction() as tx:
        assert await tx.claim("svc", ["b", "c"]) == {"c"}
        assert await tx.claim("other", ["b"]) == {"b"}  # inboxes are per consumer


async def test_claim_is_undone_with_the_transaction(store):
    with pytest.raises(RuntimeError):
        async with store.transaction() as tx:
            await tx.claim("svc", ["a"])
            raise RuntimeError("handler failed")
    async with store.transaction() as tx:
        assert await tx.claim("svc", ["a"]) == {"a"}


async def test_emitted_events_reach_the_outbox_only_on_commit(store):
    with pytest.raises(RuntimeError):
        async with store.transaction() as tx:
            tx.emit(envelope(), "itsm.incident.closed")
            raise RuntimeError("rolled back")
    assert await count(store, outbox_table) == 0
    async with store.transaction() as tx:
        tx.emit(envelope(), "itsm.incident.closed")
    assert await count(store, outbox_table) == 1


async def test_times_come_back_as_aware_utc(store):
    due = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    async with store.transaction() as tx:
        await tx.schedule("t1", "deadline", due, {"x": 1})
    async with store.read() as session:
        row = (await session.execute(select(timers_table))).one()
    assert row.due_at == due
    assert row.due_at.tzinfo is not None


async def test_naive_times_are_refused(store):
    with pytest.raises(Exception, match="naive"):
        async with store.transaction() as tx:
            await tx.schedule("t1", "deadline", datetime(2026, 11, 20), {})


async def test_schedule_replaces_and_cancel_removes(store):
    due = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    async with store.transaction() as tx:
        await tx.schedule("t1", "deadline", due, {})
        await tx.schedule("t1", "deadline", due, {"again": True})
    assert await count(store, timers_table) == 1
    async with store.transaction() as tx:
        assert await tx.cancel("t1")
        assert not await tx.cancel("t1")


async def test_a_read_sees_one_state_of_the_database(store):
    """Two statements in one read agree even when a write commits between them."""
    async with store.read() as session:
        before = (await session.execute(select(func.count()).select_from(timers_table))
                  ).scalar_one()
        async with store.transaction() as tx:
            await tx.schedule("t-1", "k", datetime.now(UTC), {})
        after = (await session.execute(select(func.count()).select_from(timers_table))
                 ).scalar_one()
    assert before == after == 0
    assert await count(store, timers_table) == 1


def test_an_event_is_emitted_on_its_own_subject_unless_told_otherwise():
    from reasonops_runtime.store import subject_of

    closed = Envelope.wrap(IncidentClosed(incident_id="INC0000001", closed_at=datetime.now(UTC),
                                          actor="user:ann"), source="incidents")
    assert subject_of(closed) == IncidentClosed.SUBJECT
    unknown = closed.model_copy(update={"type": "example.unknown.v1"})
    with pytest.raises(KeyError, match="not an event of the contracts; give its subject"):
        subject_of(unknown)


async def test_an_emitted_envelope_is_stamped_by_the_stores_clock(tmp_path):
    """Not the wall clock: a simulation's clock, or a test's frozen one, dates the
    events a service publishes."""
    from reasonops_runtime import FrozenClock, Store

    then = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    store = Store(f"sqlite+aiosqlite:///{tmp_path / 'db'}", clock=FrozenClock(then))
    await store.create_all()
    try:
        async with store.transaction() as tx:
            tx.emit(envelope())
        assert Envelope.from_bytes(tx.emitted[0].payload).time == then
    finally:
        await store.close()


async def test_a_result_is_whole_after_more_statements_and_after_its_unit_of_work(store):
    """Rows are read as the statement runs (ADR 53): a result read after its session ran
    other statements, or after the session ended, still has every row."""
    async with store.transaction() as tx:
        await tx.claim("svc", ["a", "b", "c"])
    async with store.read() as session:
        early = await session.execute(select(inbox_table.c.message_id)
                                      .order_by(inbox_table.c.message_id))
        later = await session.execute(select(func.count()).select_from(inbox_table))
    assert later.scalar_one() == 3
    assert early.scalars().all() == ["a", "b", "c"]
    async with store.transaction() as tx:  # a scan in key order meets what is added
        seen = await tx.session.execute(select(inbox_table.c.message_id)
                                        .where(inbox_table.c.consumer == "svc"))
        await tx.claim("svc", ["d"])
    assert sorted(seen.scalars().all()) == ["a", "b", "c"]


async def test_a_sqlite_file_runs_its_units_of_work_without_the_async_layer(store):
    """On a SQLite file a statement runs where it is awaited: no greenlet of SQLAlchemy's
    async layer between the handler and SQLite (ADR 53). PostgreSQL keeps asyncpg."""
    seen = []
    store.listen("before_cursor_execute",
                 lambda *_args: seen.append(type(greenlet.getcurrent()).__name__))
    async with store.transaction() as tx:
        await tx.claim("svc", ["a"])
    async with store.read() as session:
        await session.execute(select(func.count()).select_from(inbox_table))
    assert len(seen) >= 2  # the claim and the count (and SQLite's BEGIN of a read)
    if store.url.startswith("sqlite"):
        assert set(seen) == {"greenlet"}  # the event loop's own
    else:
        assert set(seen) == {"_AsyncIoGreenlet"}
