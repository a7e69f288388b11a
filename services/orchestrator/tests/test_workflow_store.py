from datetime import UTC, datetime

from reasonops_orchestrator import store
from reasonops_orchestrator.domain import INCIDENT_RESPONSE, Signal, advance, start
from reasonops_runtime import Store

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


async def test_workflow_survives_a_new_store_on_the_same_database(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'orchestrator.db'}"
    first = Store(url, store.metadata)
    await first.create_all()
    workflow, _ = start(INCIDENT_RESPONSE, incident_id="INC0000007", correlation_id="C",
                        at=T0, new_request_id=lambda: "REQ")
    async with first.transaction() as tx:
        await store.insert_workflows(tx.session, [workflow])
    advance(workflow, Signal.TRIAGE_DECIDED, at=T0, result={"category": "storage",
                                                            "reasons": ["disk"]},
            request_id="REQ")
    async with first.transaction() as tx:
        await store.update_workflows(tx.session, [workflow])
    await first.close()

    second = Store(url, store.metadata)
    async with second.read() as session:
        loaded = await store.find_for_incident(session, "INC0000007", INCIDENT_RESPONSE.name)
        missing = await store.get_workflow(session, "WF-INC0000008")
    await second.close()
    assert loaded == workflow
    assert missing is None
