from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from reasonops_contracts import Envelope
from reasonops_contracts.incidents import IncidentClosed
from reasonops_runtime.store import outbox_table, timers_table


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
