"""The agent's read model keeps each incident's load: its group's incidents open when it
opened or came to the group. A run of incident events is applied in order, redelivered
ones changing nothing; on SQLite and PostgreSQL."""

from datetime import UTC, datetime, timedelta

import pytest

from reasonops_agent_slm import store
from reasonops_agent_slm.paces import KEPT, Paces
from reasonops_contracts.incidents import (
    IncidentAcknowledged,
    IncidentAssigned,
    IncidentOpened,
    IncidentReopened,
    IncidentResolved,
)
from reasonops_runtime.store import Store

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)  # a Monday, in working hours


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def opened(incident: str, group: str | None, minutes: float) -> IncidentOpened:
    return IncidentOpened(incident_id=incident, title="t", severity="error", impact=2,
                          urgency=2, priority=3, priority_reason="t", fingerprint=incident,
                          opened_at=at(minutes), assignment_group=group)


def acked(incident: str, minutes: float) -> IncidentAcknowledged:
    return IncidentAcknowledged(incident_id=incident, acknowledged_at=at(minutes),
                                actor="user:ann")


def resolved(incident: str, minutes: float) -> IncidentResolved:
    return IncidentResolved(incident_id=incident, resolved_at=at(minutes), actor="user:ann")


def assigned(incident: str, group: str) -> IncidentAssigned:
    return IncidentAssigned(incident_id=incident, assignment_group=group, assigned_at=at(2),
                            reason="triage", actor="agent:triage")


async def apply(db, *events) -> set[str]:  # type: ignore[no-untyped-def]
    async with db.transaction() as tx:
        return await store.incident_events(tx.session, list(events))


async def loads(db) -> dict[str, int | None]:  # type: ignore[no-untyped-def]
    async with db.transaction() as tx:
        rows = await tx.session.execute(store.incidents.select())
        return {r.incident_id: r.load for r in rows}


@pytest.fixture
async def db(database_url):  # type: ignore[no-untyped-def]
    found = Store(database_url, store.metadata)
    await found.create_all()
    yield found
    await found.close()


async def test_load_counts_the_groups_open_incidents_in_one_run_and_across_runs(db):
    # One run: INC1 resolved before INC5 opens, so INC5 finds one of net's open.
    assert await apply(db, opened("INC1", "net", 0), opened("INC2", "net", 1),
                       opened("INC3", "db", 2), opened("INC4", None, 3),
                       acked("INC1", 5), resolved("INC1", 20), opened("INC5", "net", 30)
                       ) == {"net"}  # the groups whose answers moved
    assert await loads(db) == {"INC1": 0, "INC2": 1, "INC3": 0, "INC4": None, "INC5": 1}
    # Redelivered: nothing changes, nobody counted twice.
    assert not await apply(db, opened("INC5", "net", 30), resolved("INC1", 20))
    # INC3 handed to net: net's open incidents then (INC2, INC5); INC5 stays.
    assert not await apply(db, assigned("INC3", "net"), assigned("INC5", "net"))
    assert (await loads(db))["INC3"] == 2
    await apply(db, acked("INC2", 41), resolved("INC2", 50), resolved("INC3", 55))
    await apply(db, IncidentReopened(incident_id="INC3", reopened_at=at(60),
                                     actor="user:ann", reason="came back"))
    await apply(db, opened("INC6", "net", 61))  # INC5 and the reopened INC3
    assert (await loads(db))["INC6"] == 2
    async with db.transaction() as tx:
        found = await store.answered(tx.session, "net")
    assert [(a.load, a.in_hours, a.seconds) for a in found] == [
        (1, True, 40 * 60), (0, True, 5 * 60)]  # latest answer first


async def test_a_pace_is_read_again_only_when_its_group_and_kind_moved(db):
    """A clock met in one group drops that group's pace and everyone's of that kind; the
    other groups' are kept (until ``KEPT`` passes: another replica may have moved them)."""
    async def met(group: str, seconds: float) -> None:
        async with db.transaction() as tx:
            await tx.session.execute(store.met.insert().values(
                assignment_group=group, kind="response", elapsed_seconds=seconds,
                in_hours=True, at=at(seconds / 60)))

    async def paces(memo: Paces, now: datetime) -> tuple[tuple[float, ...], ...]:
        async with db.transaction() as tx:
            net, data = [await memo.pace(tx.session, group, "response", now)
                         for group in ("net", "db")]
        return net.in_hours, data.in_hours, net.everyone

    memo = Paces()
    await met("net", 60)
    await met("db", 120)
    assert await paces(memo, at(0)) == ((60,), (120,), (120, 60))
    await met("net", 180)
    await met("db", 240)  # seen by another replica: not told here
    memo.met({("net", "response")})
    assert await paces(memo, at(1)) == ((180, 60), (120,), (240, 180, 120, 60))
    assert await paces(memo, at(0) + KEPT + timedelta(seconds=1)) == (
        (180, 60), (240, 120), (240, 180, 120, 60))
