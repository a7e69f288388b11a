from datetime import UTC, datetime, timedelta

from reasonops_runtime.clock import FrozenClock
from reasonops_runtime.metrics import KitMetrics
from reasonops_runtime.store import Store
from reasonops_runtime.timers import TimerWheel

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def wheel(store, clock, handler):
    return TimerWheel(store, None, clock, {"deadline": handler}, KitMetrics("test"),
                      retry_after=timedelta(seconds=30))


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


async def test_two_replicas_fire_a_timer_exactly_once(store, tmp_path):
    clock = FrozenClock(T0)
    fired = []

    async def handler(tx, timer):
        fired.append(timer.timer_id)

    async with store.transaction() as tx:
        for i in range(20):
            await tx.schedule(f"t{i}", "deadline", T0, {})
    other = Store(store.url)
    try:
        import asyncio

        counts = await asyncio.gather(wheel(store, clock, handler).fire_due(),
                                      wheel(other, clock, handler).fire_due())
    finally:
        await other.close()
    assert sum(counts) == 20
    assert sorted(fired) == sorted(f"t{i}" for i in range(20))


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
