"""The RCA agent keeps each alert occurrence once (a sender repeating a firing alert adds
nothing), and a release with repeats already kept removes them on upgrade. SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text

from reasonops_agent_rca import store
from reasonops_contracts.ingest import EventAccepted
from reasonops_runtime import Store
from reasonops_runtime.migrations import migrate

T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def alert(fingerprint: str, status: str, starts_at: datetime, *, service: str = "checkout",
          received: timedelta = timedelta(0)) -> EventAccepted:
    return EventAccepted(
        fingerprint=fingerprint, name="HighErrorRate",
        severity="critical", service=service, resource=None, summary=f"{fingerprint} errors",
        status=status, starts_at=starts_at, received_at=starts_at + received,
        source_format="alertmanager")


async def kept(db: Store) -> list[tuple[str, str, datetime]]:
    async with db.read() as session:
        rows = (await session.execute(select(store.alerts).order_by(store.alerts.c.id))).all()
    return [(r.fingerprint, r.status, r.at) for r in rows]


async def test_a_repeated_occurrence_is_kept_once(database_url):
    db = Store(database_url, store.metadata)
    await db.create_all()
    try:
        first = [alert("fp-1", "firing", T0, received=timedelta(minutes=m)) for m in (0, 5)]
        async with db.transaction() as tx:  # repeats inside one batch
            await store.add_alerts(tx.session, [*first, alert("fp-2", "firing", T0)])
        async with db.transaction() as tx:  # and in a later one, with what is new
            await store.add_alerts(tx.session, [
                alert("fp-1", "firing", T0, received=timedelta(minutes=10)),
                alert("fp-1", "resolved", T0, received=timedelta(minutes=12)),
                alert("fp-1", "firing", T0 + timedelta(minutes=30))])  # fired again
        assert await kept(db) == [
            ("fp-1", "firing", T0), ("fp-2", "firing", T0), ("fp-1", "resolved", T0),
            ("fp-1", "firing", T0 + timedelta(minutes=30))]
        async with db.read() as session:
            near = await store.alerts_between(
                session, services=["checkout"], fingerprint=None,
                start=T0 - timedelta(minutes=1), end=T0 + timedelta(minutes=15))
        assert [(a.fingerprint, a.at) for a in near] == [("fp-1", T0), ("fp-2", T0)]
    finally:
        await db.close()


async def test_the_upgrade_removes_repeats_kept_before_and_keeps_the_first(database_url):
    db = Store(database_url, store.metadata)
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(migrate, [store.metadata], "0003")
        async with db.engine.begin() as conn:
            for n, (fingerprint, summary) in enumerate([("fp-1", "first"), ("fp-1", "again"),
                                                        ("fp-2", "other")]):
                await conn.execute(text(
                    "INSERT INTO rca_alerts (id, fingerprint, name, service, summary, status, "
                    "at) VALUES (:id, :fp, 'HighErrorRate', 'checkout', :summary, 'firing', "
                    ":at)"), {"id": n + 1, "fp": fingerprint, "summary": summary,
                              "at": T0.replace(tzinfo=None)})
        async with db.engine.begin() as conn:
            await conn.run_sync(migrate, [store.metadata], "head")
        async with db.read() as session:
            rows = (await session.execute(select(store.alerts.c.fingerprint,
                                                 store.alerts.c.summary)
                                          .order_by(store.alerts.c.id))).all()
            count = (await session.execute(select(func.count()).select_from(store.alerts))
                     ).scalar_one()
        assert [tuple(r) for r in rows] == [("fp-1", "first"), ("fp-2", "other")]
        assert count == 2
    finally:
        await db.close()
