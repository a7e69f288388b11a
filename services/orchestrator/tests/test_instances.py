"""The shell over a real store (SQLite): one instance per key, queueing beyond
``max_concurrent``, version pinning, timers armed in the same transaction."""

from datetime import UTC, datetime, timedelta

import pytest

from reasonops_contracts import Envelope
from reasonops_contracts.incidents import IncidentClosed, IncidentOpened
from reasonops_orchestrator import definition_store, store
from reasonops_orchestrator.catalog import Catalog
from reasonops_orchestrator.handlers import Orchestrator
from reasonops_orchestrator.shell import Shell
from reasonops_orchestrator.validation import parse
from reasonops_runtime import FrozenClock, Store
from reasonops_runtime.store import outbox_table, timers_table

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def definition(version: int, steps: str) -> str:
    return (f"name: demo\nversion: {version}\nmax_concurrent: 2\n"
            "trigger: {event: IncidentOpened}\nfinish_on: {event: IncidentClosed}\n"
            f"steps:\n{steps}")


V1 = definition(1, "  - {id: wait, kind: delay, for: 1h}\n")
V2 = definition(2, "  - {id: first, kind: delay, for: 1m}\n"
                   "  - {id: second, kind: delay, for: 1m, depends_on: [first]}\n")


def opened(n: int) -> Envelope:
    return Envelope.wrap(IncidentOpened(
        incident_id=f"INC{n:07d}", title="t", severity="warning", impact=2, urgency=2,
        priority=3, priority_reason="t", fingerprint=f"fp{n}", opened_at=T0), source="test")


def closed(n: int) -> Envelope:
    return Envelope.wrap(IncidentClosed(incident_id=f"INC{n:07d}", closed_at=T0, actor="a"),
                         source="test")


@pytest.fixture
async def db(tmp_path):
    s = Store(f"sqlite+aiosqlite:///{tmp_path / 'o.db'}", store.metadata)
    await s.create_all()
    yield s
    await s.close()


async def feed(db, orchestrator, *envelopes):
    async with db.transaction() as tx:
        await orchestrator.on_events(tx, [(e, e.decode(
            IncidentOpened if e.type == IncidentOpened.TYPE else IncidentClosed))
            for e in envelopes])
        return tx.emitted


async def states(db):
    async with db.read() as session:
        return {i.key: (i.state, i.version) for i in await store.find(session)}


async def test_extra_triggers_queue_and_start_when_a_slot_frees(db):
    catalog = Catalog()
    catalog.add(parse(V1, "v1.yaml"), "v1.yaml")
    orchestrator = Orchestrator(catalog, FrozenClock(T0), Shell(FrozenClock(T0)))
    await feed(db, orchestrator, opened(1), opened(2), opened(3), opened(1))
    assert await states(db) == {"INC0000001": ("running", 1), "INC0000002": ("running", 1),
                                "INC0000003": ("queued", 1)}
    async with db.read() as session:
        timers = (await session.execute(timers_table.select())).all()
    assert sorted(t.timer_id for t in timers) == [
        "wf:demo-INC0000001:wait:delay", "wf:demo-INC0000002:wait:delay"]
    await feed(db, orchestrator, closed(1))
    assert await states(db) == {"INC0000001": ("completed", 1), "INC0000002": ("running", 1),
                                "INC0000003": ("running", 1)}


async def test_running_instances_keep_their_version(db):
    old = Catalog()
    old.add(parse(V1, "v1.yaml"), "v1.yaml")
    await feed(db, Orchestrator(old, FrozenClock(T0), Shell(FrozenClock(T0))), opened(1))
    new = Catalog()
    new.add(parse(V1, "v1.yaml"), "v1.yaml")
    new.add(parse(V2, "v2.yaml"), "v2.yaml")
    orchestrator = Orchestrator(new, FrozenClock(T0), Shell(FrozenClock(T0)))
    await feed(db, orchestrator, opened(2))
    assert await states(db) == {"INC0000001": ("running", 1), "INC0000002": ("running", 2)}
    async with db.read() as session:
        one = await store.get(session, "demo-INC0000001")
        two = await store.get(session, "demo-INC0000002")
    assert list(one.steps) == ["wait"]
    assert list(two.steps) == ["first", "second"]
    async with db.read() as session:
        published = (await session.execute(outbox_table.select())).all()
    assert published  # started, step started: written with the state, relayed later


async def test_old_triggers_start_nothing(db):
    catalog = Catalog()
    catalog.add(parse(V1, "v1.yaml"), "v1.yaml")
    later = FrozenClock(T0 + timedelta(days=2))
    orchestrator = Orchestrator(catalog, later, Shell(later))
    old = Envelope.wrap(opened(1).decode(IncidentOpened), source="test", time=T0)
    await feed(db, orchestrator, old, opened(2))
    assert await states(db) == {"INC0000002": ("running", 1)}


async def test_only_the_steps_that_changed_are_written_back(db):
    """A changed instance rewrites its row and the steps that differ from what was read,
    not all of them (a major incident has five)."""

    from reasonops_orchestrator.workset import Workset
    catalog = Catalog()
    catalog.add(parse(V2, "v2.yaml"), "v2.yaml")
    await feed(db, Orchestrator(catalog, FrozenClock(T0), Shell(FrozenClock(T0))), opened(1))
    rows: list[int] = []

    def counted(_conn, _cursor, statement, parameters, _context, executemany) -> None:
        if statement.startswith("UPDATE workflow_steps"):
            rows.append(len(parameters) if executemany else 1)

    db.listen("before_cursor_execute", counted)
    async with db.transaction() as tx:
        ws = Workset(tx)
        instance = await ws.fetch("demo-INC0000001")
        assert [s.state for s in instance.steps.values()] == ["waiting", "pending"]
        instance.steps["second"].state = "running"
        instance.steps["second"].output = {"note": "by hand"}
        ws.changed(instance)
        await ws.flush()
        ws.changed(instance)  # changed again, nothing new in its steps
        await ws.flush()
    assert rows == [1]
    async with db.read() as session:
        again = await store.get(session, "demo-INC0000001")
    assert [(s.state, s.output) for s in again.steps.values()] == [
        ("waiting", {}), ("running", {"note": "by hand"})]


async def test_each_definition_is_stored_once_and_an_edited_one_apart(db):
    """Instances name their definition by digest. The same file edited without a new
    version is another definition: what started on the first keeps running it."""
    first = Catalog()
    first.add(parse(V1, "v1.yaml"), "v1.yaml")
    orchestrator = Orchestrator(first, FrozenClock(T0), Shell(FrozenClock(T0)))
    await feed(db, orchestrator, opened(1))
    await feed(db, orchestrator, opened(2))
    edited = Catalog()
    edited.add(parse(V1.replace("for: 1h", "for: 2h"), "v1.yaml"), "v1.yaml")
    await feed(db, Orchestrator(edited, FrozenClock(T0), Shell(FrozenClock(T0))), closed(1),
               opened(3))
    async with db.read() as session:
        stored = (await session.execute(definition_store.definitions.select())).all()
        rows = {r.workflow_id: r.definition_digest
                for r in (await session.execute(store.instances.select())).all()}
        found = await store.find(session)
    assert [(r.workflow, r.version) for r in stored] == [("demo", 1), ("demo", 1)]
    assert rows["demo-INC0000001"] == rows["demo-INC0000002"] != rows["demo-INC0000003"]
    assert {i.key: i.definition.steps[0].for_ for i in found} == {
        "INC0000001": 3600, "INC0000002": 3600, "INC0000003": 7200}
