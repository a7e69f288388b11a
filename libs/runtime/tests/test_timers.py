from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from reasonops_runtime.clock import FrozenClock
from reasonops_runtime.metrics import KitMetrics
from reasonops_runtime.store import Store, outbox_table, timers_table
from reasonops_runtime.timers import Timer, TimerWheel

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def wheel(store, clock, handler, together=frozenset()):
    return TimerWheel(store, None, clock, {"deadline": handler}, KitMetrics("test"),
                      retry_after=timedelta(seconds=30), together=together)


def batched_wheel(store, clock, handler):
    """A wheel whose "deadline" timers reach ``handler(tx, [timer, ...])`` as one list."""
    return TimerWheel(store, None, clock, {}, KitMetrics("test"),
                      retry_after=timedelta(seconds=30), batched={"deadline": handler})


async def test_a_timer_fires_once_when_due(store):
    clock = FrozenClock(T0)
    fired = []

    async def handler(tx, timer):
        fired.append(timer.payload["n"])

    w = wheel(store, clock, handler)
    async with store.transaction() as tx:
        await tx.schedule("a", "deadline", T0 + timedelta(minutes=5), {"n": 1})
    assert await w.fire_due() == 0
    clock.advance(timedelta(minutes=5))
    assert await w.fire_due() == 1
    assert await w.fire_due() == 0
    assert fired == [1]


@pytest.mark.parametrize("together", [False, True, "batched"])
async def test_two_replicas_fire_a_timer_exactly_once(store, tmp_path, together):
    clock = FrozenClock(T0)
    fired = []

    async def one(tx, timer):
        fired.append(timer.timer_id)
        tx.emit(_emitting(int(timer.timer_id[1:])))

    async def many(tx, timers):
        for timer in timers:
            await one(tx, timer)

    def wheel_of(store, kinds):
        return (batched_wheel(store, clock, many) if together == "batched"
                else wheel(store, clock, one, together=kinds))

    async with store.transaction() as tx:
        for i in range(20):
            await tx.schedule(f"t{i}", "deadline", T0, {})
    other = Store(store.url)
    try:
        import asyncio

        kinds = frozenset({"deadline"} if together else ())
        counts = await asyncio.gather(wheel_of(store, kinds).fire_due(),
                                      wheel_of(other, kinds).fire_due())
    finally:
        await other.close()
    assert sum(counts) == 20
    # Each fired once by what committed (a handler may have run in a group that then
    # found its rows taken and rolled back: its events with it).
    assert await _outbox_subjects(store) == sorted(f"INC{i:07d}" for i in range(20))


async def test_a_failing_handler_is_retried_later_not_lost(store):
    clock = FrozenClock(T0)
    attempts = []

    async def handler(tx, timer):
        attempts.append(clock.now())
        if len(attempts) == 1:
            raise RuntimeError("downstream not ready")

    w = wheel(store, clock, handler)
    async with store.transaction() as tx:
        await tx.schedule("a", "deadline", T0, {})
    assert await w.fire_due() == 0
    clock.advance(timedelta(seconds=10))
    assert await w.fire_due() == 0  # backed off
    clock.advance(timedelta(seconds=25))
    assert await w.fire_due() == 1
    assert len(attempts) == 2


async def _running(w, stopping):
    import asyncio

    task = asyncio.create_task(w.run(stopping))
    await asyncio.sleep(0.2)  # its first look
    return task


async def _until(predicate, timeout=3.0):
    import asyncio

    for _ in range(int(timeout / 0.02)):
        if predicate():
            return True
        await asyncio.sleep(0.02)
    return False


async def test_an_idle_wheel_asks_the_database_nothing_until_a_timer_is_due(store):
    """Ticks read the clock; the database is asked when the next timer is due, when this
    process arms one, or after ``recheck_seconds`` (another replica's timers)."""
    import asyncio

    clock = FrozenClock(T0)
    fired = []

    async def handler(tx, timer):
        fired.append(timer.timer_id)

    statements = []
    store.time_statements(statements.append)
    w = TimerWheel(store, None, clock, {"deadline": handler}, KitMetrics("test"),
                   poll_seconds=0.02, recheck_seconds=3600)
    stopping = asyncio.Event()
    task = await _running(w, stopping)
    try:
        async with store.transaction() as tx:
            await tx.schedule("later", "deadline", T0 + timedelta(minutes=5), {})
        await asyncio.sleep(0.1)  # the arm is looked at once
        asked = len(statements)
        await asyncio.sleep(0.5)  # 25 ticks, nothing due
        assert len(statements) == asked
        clock.advance(timedelta(minutes=5))  # moved by hand: seen within a tick
        assert await _until(lambda: fired == ["later"])
        async with store.transaction() as tx:  # armed due now: fired at the next tick
            await tx.schedule("now", "deadline", clock.now(), {})
        assert await _until(lambda: fired == ["later", "now"])
    finally:
        stopping.set()
        await task


async def test_a_timer_another_replica_armed_is_fired_at_the_recheck(store):
    import asyncio

    clock = FrozenClock(T0)
    fired = []

    async def handler(tx, timer):
        fired.append(timer.timer_id)

    w = TimerWheel(store, None, clock, {"deadline": handler}, KitMetrics("test"),
                   poll_seconds=0.02, recheck_seconds=0.5)
    stopping = asyncio.Event()
    task = await _running(w, stopping)
    other = Store(store.url)
    try:
        async with other.transaction() as tx:  # the other replica stopped before firing it
            await tx.schedule("theirs", "deadline", T0, {})
        await asyncio.sleep(0.2)
        assert fired == []  # this wheel was not told
        assert await _until(lambda: fired == ["theirs"])
    finally:
        stopping.set()
        await task
        await other.close()


@pytest.mark.nats
async def test_the_events_of_timers_fired_together_are_relayed_together(nc, tmp_path):
    """Each timer commits on its own; their events go to the broker in one batch, and the
    relayed rows leave the outbox in one delete, not one of each per timer."""
    from reasonops_runtime.acks import BatchPublisher
    from reasonops_runtime.jetstream import ensure_streams
    from reasonops_runtime.outbox import OutboxRelay

    js = nc.jetstream()
    await ensure_streams(js)
    store = Store(f"sqlite+aiosqlite:///{tmp_path / 'timers.db'}")
    await store.create_all()
    publisher = BatchPublisher(nc)
    await publisher.start()
    clock = FrozenClock(T0)

    async def handler(tx, timer):
        tx.emit(_emitting(timer.payload["n"]))

    deletes = []
    store.listen("before_cursor_execute",
                 lambda _c, _cur, statement, *_: deletes.append(statement)
                 if statement.startswith("DELETE FROM kit_outbox") else None)
    try:
        async with store.transaction() as tx:
            for n in range(1, 31):
                await tx.schedule(f"t{n}", "deadline", T0, {"n": n})
        w = TimerWheel(store, OutboxRelay(publisher, store, KitMetrics("test")), clock,
                       {"deadline": handler}, KitMetrics("test"))
        assert await w.fire_due() == 30
        assert len(deletes) == 1
        async with store.read() as session:
            assert (await session.execute(outbox_table.select())).all() == []
        info = await js.stream_info("INCIDENTS")
        assert info.state.messages == 30
    finally:
        await publisher.close()
        await store.close()


def _emitting(n: int):
    from reasonops_contracts import Envelope
    from reasonops_contracts.incidents import IncidentOpened

    return Envelope.wrap(IncidentOpened(
        incident_id=f"INC{n:07d}", title="t", severity="warning", impact=3, urgency=3,
        priority=4, priority_reason="r", fingerprint=f"fp-timer-{n}", opened_at=T0),
        source="incidents", subject=f"INC{n:07d}")


async def _outbox_subjects(store):
    """The incidents of the events the fired timers left in the outbox."""
    from reasonops_contracts import Envelope

    async with store.read() as session:
        rows = (await session.execute(outbox_table.select())).all()
    return sorted(Envelope.from_bytes(row.payload).subject or "" for row in rows)


async def test_timers_that_may_fire_together_commit_together_in_due_order(store):
    """Kinds that only write to the store fire many to a transaction; the others alone."""
    clock = FrozenClock(T0)
    order = []

    async def handler(tx, timer):
        order.append(timer.timer_id)
        tx.emit(_emitting(timer.payload["n"]))

    commits = []
    store.listen("commit", lambda _conn: commits.append(1))
    async with store.transaction() as tx:
        for n in range(1, 61):
            await tx.schedule(f"t{n:02d}", "deadline" if n != 30 else "alone",
                              T0 + timedelta(seconds=n), {"n": n})
    commits.clear()
    w = TimerWheel(store, None, clock, {"deadline": handler, "alone": handler},
                   KitMetrics("test"), together=frozenset({"deadline"}))
    clock.advance(timedelta(minutes=1))
    assert await w.fire_due() == 60
    assert order == [f"t{n:02d}" for n in range(1, 61)]
    # t01-t29 together, t30 alone, t31-t60 together
    assert len(commits) == 3
    assert len(await _outbox_subjects(store)) == 60


async def test_a_failing_timer_among_others_holds_none_back_and_none_fires_twice(store):
    """One handler failing rolls its group back; each then fires alone: the others once,
    the failing one retried later."""
    clock = FrozenClock(T0)
    attempts: dict[str, int] = {}

    async def handler(tx, timer):
        attempts[timer.timer_id] = attempts.get(timer.timer_id, 0) + 1
        tx.emit(_emitting(timer.payload["n"]))
        if timer.timer_id == "t05" and attempts["t05"] <= 2:
            raise RuntimeError("downstream not ready")

    async with store.transaction() as tx:
        for n in range(1, 11):
            await tx.schedule(f"t{n:02d}", "deadline", T0, {"n": n})
    w = TimerWheel(store, None, clock, {"deadline": handler}, KitMetrics("test"),
                   retry_after=timedelta(seconds=30), together=frozenset({"deadline"}))
    assert await w.fire_due() == 9
    # t01-t05 ran together and were rolled back, then each ran alone
    assert (attempts["t04"], attempts["t05"], attempts["t06"]) == (2, 2, 1)
    assert len(await _outbox_subjects(store)) == 9  # what the rolled-back group emitted: gone
    assert await w.fire_due() == 0  # t05 waits for its retry
    clock.advance(timedelta(seconds=30))
    assert await w.fire_due() == 1
    assert await _outbox_subjects(store) == sorted(f"INC{n:07d}" for n in range(1, 11))


async def test_batched_timers_reach_their_handler_as_one_list_a_transaction(store):
    """Due timers of a batched kind: one call and one commit per run of that kind (at most
    ``TOGETHER``), in due order; a timer of another kind between runs fires alone."""
    clock = FrozenClock(T0)
    calls: list[list[str]] = []

    async def many(tx, timers):
        calls.append([timer.timer_id for timer in timers])
        for timer in timers:
            tx.emit(_emitting(timer.payload["n"]))

    async def one(tx, timer):
        calls.append([timer.timer_id])
        tx.emit(_emitting(timer.payload["n"]))

    commits = []
    store.listen("commit", lambda _conn: commits.append(1))
    async with store.transaction() as tx:
        for n in range(1, 71):
            await tx.schedule(f"t{n:02d}", "deadline" if n != 10 else "alone",
                              T0 + timedelta(seconds=n), {"n": n})
    commits.clear()
    w = TimerWheel(store, None, clock, {"alone": one}, KitMetrics("test"),
                   batched={"deadline": many})
    clock.advance(timedelta(minutes=2))
    assert await w.fire_due() == 70
    assert calls == [[f"t{n:02d}" for n in range(1, 10)], ["t10"],
                     [f"t{n:02d}" for n in range(11, 61)], [f"t{n:02d}" for n in range(61, 71)]]
    assert len(commits) == 4
    assert await _outbox_subjects(store) == sorted(f"INC{n:07d}" for n in range(1, 71))


async def test_a_batched_timer_re_armed_meanwhile_is_not_claimed_by_its_old_time(store):
    clock = FrozenClock(T0)
    got: list[str] = []

    async def many(tx, timers):
        got.extend(timer.timer_id for timer in timers)

    async with store.transaction() as tx:
        for name in ("a", "b", "c"):
            await tx.schedule(name, "deadline", T0, {})
    w = batched_wheel(store, clock, many)
    async with store.read() as session:
        rows = (await session.execute(select(timers_table))).all()
    timers = [Timer(r.timer_id, r.kind, r.due_at, r.payload, None, None) for r in rows]
    async with store.transaction() as tx:  # "b" re-armed for later, after it was read as due
        await tx.schedule("b", "deadline", T0 + timedelta(hours=1), {})
    async with store.transaction() as tx:
        claimed = await w._claimed_batch(tx, sorted(timers, key=lambda t: t.timer_id))
    assert [t.timer_id for t in claimed] == got == ["a", "c"]
    async with store.read() as session:
        left = (await session.execute(select(timers_table.c.timer_id))).scalars().all()
    assert left == ["b"]


async def test_a_failing_batch_is_handed_again_one_timer_at_a_time(store):
    """The batch's transaction rolls back (nothing it emitted is kept); each timer is then
    handed alone: the others once, the failing one retried later."""
    clock = FrozenClock(T0)
    calls: list[list[str]] = []

    async def many(tx, timers):
        calls.append([timer.timer_id for timer in timers])
        for timer in timers:
            tx.emit(_emitting(timer.payload["n"]))
            if timer.timer_id == "t03" and len(calls) <= 4:
                raise RuntimeError("downstream not ready")

    async with store.transaction() as tx:
        for n in range(1, 6):
            await tx.schedule(f"t{n:02d}", "deadline", T0, {"n": n})
    w = batched_wheel(store, clock, many)
    assert await w.fire_due() == 4
    assert calls == [[f"t{n:02d}" for n in range(1, 6)], ["t01"], ["t02"], ["t03"], ["t04"],
                     ["t05"]]
    assert await _outbox_subjects(store) == sorted(f"INC{n:07d}" for n in (1, 2, 4, 5))
    clock.advance(timedelta(seconds=30))
    assert await w.fire_due() == 1
    assert len(await _outbox_subjects(store)) == 5
