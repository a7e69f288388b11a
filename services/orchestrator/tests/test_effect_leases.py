"""Claimed effects carry an owner and a lease: a replica starting (or polling) recovers
only claims whose lease ran out, never an effect another live replica is running. On
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from reasonops_orchestrator import effect_store
from reasonops_orchestrator.runner import EffectRunner
from reasonops_orchestrator.shell import Shell
from reasonops_orchestrator.store import metadata
from reasonops_runtime import FrozenClock, Service
from reasonops_runtime.settings import ServiceSettings

T0 = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


def replica(url: str, clock: FrozenClock, name: str) -> EffectRunner:
    service = Service("orchestrator", ServiceSettings(database_url=url, instance=name),
                      metadata=(metadata,), clock=clock)
    return EffectRunner(service, Shell(clock, lambda *_: None), notifier=None,  # type: ignore[arg-type]
                        policy=None, lease=timedelta(seconds=60))  # type: ignore[arg-type]


async def claimed(runner: EffectRunner, effect_id: str, *, owner: str, until: datetime) -> None:
    async with runner.service.store.transaction() as tx:
        await tx.session.execute(insert(effect_store.effects).values(
            effect_id=effect_id, workflow_id="WF-INC0000001", step="notify", attempt=1,
            kind="notify", payload={}, state="claimed", created_at=T0, claimed_at=T0,
            claimed_by=owner, lease_until=until))


async def state_of(runner: EffectRunner, effect_id: str) -> tuple[str, str | None]:
    async with runner.service.store.read() as session:
        row = (await session.execute(select(effect_store.effects).where(
            effect_store.effects.c.effect_id == effect_id))).one()
    return row.state, row.claimed_by


async def test_a_starting_replica_leaves_a_live_replicas_claims_alone(database_url):
    clock = FrozenClock(T0)
    starting = replica(database_url, clock, "orchestrator-b")
    await starting.service.store.create_all()
    try:
        await claimed(starting, "running", owner="orchestrator-a", until=T0 + timedelta(
            seconds=45))
        await claimed(starting, "abandoned", owner="orchestrator-gone",
                      until=T0 - timedelta(seconds=1))
        await starting.recover()
        assert await state_of(starting, "running") == ("claimed", "orchestrator-a")
        assert await state_of(starting, "abandoned") == ("pending", None)

        clock.advance(timedelta(seconds=46))  # a's lease ran out: a died
        await starting.recover()
        assert await state_of(starting, "running") == ("pending", None)
    finally:
        await starting.service.store.close()


async def test_a_running_effect_keeps_its_claim_past_one_lease(database_url):
    clock = FrozenClock(T0)
    runner = replica(database_url, clock, "orchestrator-a")
    await runner.service.store.create_all()
    try:
        await claimed(runner, "slow", owner="orchestrator-a", until=T0 + timedelta(seconds=60))
        async with runner.service.store.transaction() as tx:
            await effect_store.renew_claims(tx.session, ["slow"], owner="orchestrator-a",
                                            lease_until=T0 + timedelta(seconds=120))
            # Another owner cannot extend a claim that is not its own.
            await effect_store.renew_claims(tx.session, ["slow"], owner="orchestrator-b",
                                            lease_until=T0 + timedelta(days=1))
        clock.advance(timedelta(seconds=90))
        await runner.recover()
        assert await state_of(runner, "slow") == ("claimed", "orchestrator-a")
        clock.advance(timedelta(seconds=31))
        await runner.recover()
        assert await state_of(runner, "slow") == ("pending", None)
    finally:
        await runner.service.store.close()
