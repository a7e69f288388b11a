"""``select_in``: rows by many keys, in chunks; a query built once is extended once."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, insert, select

from reasonops_runtime.store import IN_CHUNK, select_in, timers_table
from reasonops_runtime.tables import _IN_REMEMBERED, _IN_STATEMENTS, _in_statement

_OF_KIND = select(timers_table.c.timer_id).where(timers_table.c.kind == bindparam("b_kind"))
START = datetime(2026, 12, 7, tzinfo=UTC)


async def _arm(store, count):
    async with store.transaction() as tx:
        await tx.session.execute(insert(timers_table), [
            {"timer_id": f"t{n:05d}", "kind": "even" if n % 2 == 0 else "odd",
             "due_at": START + timedelta(seconds=n), "payload": {}} for n in range(count)])


async def test_keys_beyond_one_chunk_with_the_query_s_own_parameters(store):
    count = IN_CHUNK * 2 + 100
    await _arm(store, count)
    keys = [f"t{n:05d}" for n in range(count)] + ["t00000", "missing"]
    for lock in (False, True):
        async with store.transaction() as tx:
            rows = await select_in(tx.session, _OF_KIND, timers_table.c.timer_id, keys,
                                   lock=lock, parameters={"b_kind": "even"})
        assert sorted(r.timer_id for r in rows) == [f"t{n:05d}" for n in range(0, count, 2)]
    async with store.read() as session:
        rows = await select_in(session, _OF_KIND, timers_table.c.timer_id, keys,
                               parameters={"b_kind": "odd"})
    assert len(rows) == count // 2


def test_a_query_built_once_is_extended_once():
    column = timers_table.c.timer_id
    first = _in_statement(_OF_KIND, column, False)
    assert _in_statement(_OF_KIND, column, False) is first
    assert _in_statement(_OF_KIND, column, True) is not first
    assert _in_statement(select(timers_table.c.kind), column, False) is not first


def test_queries_built_at_each_call_are_not_all_remembered():
    column = timers_table.c.timer_id
    for _ in range(_IN_REMEMBERED * 2):
        _in_statement(select(timers_table.c.kind), column, False)
    assert len(_IN_STATEMENTS) <= _IN_REMEMBERED
