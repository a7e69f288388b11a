"""Two writers of one incident on PostgreSQL (READ COMMITTED): a command and an alert
batch each read, decide and write the incident back. The second waits for the first and
decides on what it wrote, so neither change is lost after its event went out."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime

import pytest

from reasonops_incidents.incident import store
from reasonops_incidents.incident.domain import Alert, State, open_incident
from reasonops_incidents.store import metadata
from reasonops_runtime import Store

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)

pytestmark = pytest.mark.postgres


def incident():
    alert = Alert(fingerprint="fp1", status="firing", name="HighErrorRate",
                  severity="critical", summary="checkout 5xx", service="checkout",
                  resource="pod-1", labels={"alertname": "HighErrorRate"}, annotations={},
                  starts_at=T0)
    return open_incident(alert, incident_id="INC0000001", at=T0, correlation_id="c1")


@pytest.fixture
async def db(postgres_database):
    db = Store(postgres_database(), metadata)
    await db.create_all()
    async with db.transaction() as tx:
        await store.save(tx.session, created=[incident()], changed=[])
    yield db
    await db.close()


async def test_a_resolve_racing_an_alert_batch_keeps_both_changes(db):
    async def alert_batch() -> None:
        async with db.transaction() as tx:  # another alert joins the incident
            (joined,) = (await store.load_incidents(tx.session, ["INC0000001"])).values()
            await store.save(tx.session, created=[], changed=[dataclasses.replace(
                joined, alert_count=joined.alert_count + 1, firing_alerts=2)])

    async with db.transaction() as tx:  # a person resolves it meanwhile
        resolving = await store.get_incident(tx.session, "INC0000001", lock=True)
        assert resolving is not None
        batch = asyncio.create_task(alert_batch())
        await asyncio.sleep(0.5)
        assert not batch.done()  # it waits for the command's decision
        await store.save(tx.session, created=[], changed=[dataclasses.replace(
            resolving, state=State.RESOLVED, resolved_at=T0, note="fixed")])
    await asyncio.wait_for(batch, 10)

    async with db.read() as session:
        final = await store.get_incident(session, "INC0000001")
    assert final is not None
    assert (final.state, final.note, final.alert_count) == (State.RESOLVED, "fixed", 2)


async def test_two_alert_batches_on_one_incident_count_every_alert(db):
    async def batch(started: asyncio.Event, go: asyncio.Event) -> None:
        async with db.transaction() as tx:
            (joined,) = (await store.load_incidents(tx.session, ["INC0000001"])).values()
            started.set()
            await go.wait()
            await store.save(tx.session, created=[], changed=[dataclasses.replace(
                joined, alert_count=joined.alert_count + 1)])

    first_started, second_started, go = asyncio.Event(), asyncio.Event(), asyncio.Event()
    first = asyncio.create_task(batch(first_started, go))
    await first_started.wait()
    second = asyncio.create_task(batch(second_started, go))
    await asyncio.sleep(0.5)
    assert not second_started.is_set()  # its read waits for the first's write
    go.set()
    await asyncio.wait_for(asyncio.gather(first, second), 10)
    async with db.read() as session:
        final = await store.get_incident(session, "INC0000001")
    assert final is not None
    assert final.alert_count == 3
