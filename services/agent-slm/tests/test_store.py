"""The agent's read model keeps each incident's load: its group's incidents open when it
opened or came to the group."""

from datetime import UTC, datetime, timedelta

from reasonops_agent_slm import store
from reasonops_llm.evaluation import case_store

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)  # a Monday, in working hours


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


async def loads(db) -> dict[str, int | None]:
    async with db.transaction() as tx:
        rows = await tx.session.execute(store.incidents.select())
        return {r.incident_id: r.load for r in rows}


async def test_load_counts_the_groups_open_incidents():
    async with case_store(store.metadata) as db:
        async with db.transaction() as tx:
            await store.opened(tx.session, [("INC1", "net", at(0)), ("INC2", "net", at(1)),
                                            ("INC3", "db", at(2)), ("INC4", None, at(3))])
        async with db.transaction() as tx:
            await store.changed(tx.session, "INC1", acknowledged_at=at(5),
                                resolved_at=at(20))
            await store.opened(tx.session, [("INC5", "net", at(30))])
            await store.opened(tx.session, [("INC5", "net", at(30))])  # redelivered
        assert await loads(db) == {"INC1": 0, "INC2": 1, "INC3": 0, "INC4": None, "INC5": 1}
        async with db.transaction() as tx:  # INC3 handed to net: net's load now
            await store.assigned(tx.session, "INC3", "net")
            await store.assigned(tx.session, "INC5", "net")  # already there: kept
            await store.changed(tx.session, "INC2", acknowledged_at=at(41))
        assert (await loads(db))["INC3"] == 2
        async with db.transaction() as tx:
            found = await store.answered(tx.session, "net")
        assert [(a.load, a.in_hours, a.seconds) for a in found] == [
            (1, True, 40 * 60), (0, True, 5 * 60)]  # latest answer first
