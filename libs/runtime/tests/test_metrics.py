from prometheus_client import CollectorRegistry
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, update

from reasonops_runtime import Service
from reasonops_runtime.metrics import CountGauge
from reasonops_runtime.settings import ServiceSettings
from reasonops_runtime.store import Store

metadata = MetaData()
things = Table("things", metadata, Column("id", Integer, primary_key=True),
               Column("state", String(16)), Column("priority", Integer))


def samples(registry, name):
    return {tuple(sorted(s.labels.items())): s.value
            for family in registry.collect() for s in family.samples if s.name == name}


async def test_a_count_gauge_reports_the_rows_in_the_store_and_drops_what_is_gone(tmp_path):
    store = Store(f"sqlite+aiosqlite:///{tmp_path / 'g.db'}", metadata)
    await store.create_all()
    registry = CollectorRegistry()
    gauge = CountGauge("things_open", "open things", things,
                       {"state": "state", "priority": "priority"}, registry,
                       where=things.c.state != "closed", formats={"priority": lambda p: f"P{p}"})
    async with store.transaction() as tx:
        await tx.session.execute(insert(things), [
            {"id": 1, "state": "new", "priority": 1}, {"id": 2, "state": "new", "priority": 1},
            {"id": 3, "state": "acked", "priority": 2}, {"id": 4, "state": "closed",
                                                         "priority": 1}])
    await gauge.refresh(store)
    assert samples(registry, "things_open") == {
        (("priority", "P1"), ("state", "new")): 2.0, (("priority", "P2"), ("state", "acked")): 1.0}

    async with store.transaction() as tx:
        await tx.session.execute(update(things).values(state="closed"))
    await gauge.refresh(store)
    assert samples(registry, "things_open") == {}
    await store.close()


async def test_every_statement_a_service_runs_is_counted_and_timed(database_url):
    service = Service("probe", ServiceSettings(database_url=database_url), metadata=(metadata,))
    await service.store.create_all()

    def statements() -> float:
        return samples(service.registry, "reasonops_db_statement_seconds_count")[
            (("service", "probe"),)]

    before = statements()
    async with service.store.transaction() as tx:
        await tx.session.execute(insert(things), [{"id": n, "state": "new", "priority": 3}
                                                  for n in range(5)])  # one executemany
        await tx.session.execute(update(things).values(state="closed"))
        assert await tx.claim("probe", ["m-1", "m-2"]) == {"m-1", "m-2"}
    assert statements() - before == 3  # an executemany is one statement
    assert samples(service.registry, "reasonops_db_statement_seconds_sum")[
        (("service", "probe"),)] > 0
    await service.store.close()
