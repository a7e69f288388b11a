"""Revision 0004: instances that carried a copy of their definition name it by digest
afterwards, each definition stored once; and back again (SQLite and PostgreSQL)."""

from datetime import UTC, datetime

import sqlalchemy as sa

from reasonops_orchestrator import definition_store, definitions, store
from reasonops_orchestrator.definitions import dumped
from reasonops_orchestrator.validation import parse
from reasonops_runtime import Store
from reasonops_runtime.migrations import migrate

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DEMO = ("name: demo\nversion: 1\ntrigger: {event: IncidentOpened}\n"
        "steps:\n  - {id: wait, kind: delay, for: 1h}\n")
EDITED = DEMO.replace("for: 1h", "for: 2h")

# workflow_instances as revision 0003 left it
OLD = sa.table("workflow_instances", *(sa.column(n) for n in (
    "workflow_id", "workflow", "version", "key", "incident_id", "correlation_id", "state",
    "started_at", "updated_at")), sa.column("incident_ids", sa.JSON),
    sa.column("definition", sa.JSON), sa.column("trigger", sa.JSON))


def row(key: str, text: str) -> dict[str, object]:
    return {"workflow_id": f"demo-{key}", "workflow": "demo", "version": 1, "key": key,
            "incident_id": key, "incident_ids": [key], "correlation_id": "c",
            "state": "running", "started_at": T0.replace(tzinfo=None),
            "updated_at": T0.replace(tzinfo=None), "trigger": {},
            "definition": dumped(parse(text, "demo.yaml"))[1]}


async def test_the_upgrade_names_each_copy_by_digest_and_the_downgrade_restores_it(
        database_url, monkeypatch):
    db = Store(database_url, store.metadata)
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(migrate, [store.metadata], "0003")
        copies = [row("INC0000001", DEMO), row("INC0000002", DEMO), row("INC0000003", EDITED)]
        async with db.engine.begin() as conn:
            await conn.execute(sa.insert(OLD), copies)
        async with db.engine.begin() as conn:
            await conn.run_sync(migrate, [store.metadata], "head")
        # read as a process that has not seen these definitions yet (an upgraded one)
        monkeypatch.setattr(definitions, "_PARSED", {})
        monkeypatch.setattr(definitions, "_DUMPED", {})
        async with db.read() as session:
            stored = (await session.execute(definition_store.definitions.select())).all()
            found = await store.load(session, {c["workflow_id"] for c in copies})
        assert sorted(r.definition["steps"][0]["for"] for r in stored) == [3600, 7200]
        assert {k: i.definition.steps[0].for_ for k, i in found.items()} == {
            "demo-INC0000001": 3600, "demo-INC0000002": 3600, "demo-INC0000003": 7200}
        async with db.engine.begin() as conn:
            await conn.run_sync(migrate, [store.metadata], "0003")
        async with db.engine.begin() as conn:
            back = {r.workflow_id: r.definition
                    for r in await conn.execute(sa.select(OLD.c.workflow_id,
                                                          OLD.c.definition))}
        assert back == {c["workflow_id"]: c["definition"] for c in copies}
    finally:
        await db.close()
