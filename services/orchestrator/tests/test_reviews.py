"""Post-incident reviews as the store keeps them: one per instance (recorded again, it is
replaced), found by instance or as an incident's newest; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from reasonops_orchestrator import effect_store, store
from reasonops_runtime import FrozenClock, Service
from reasonops_runtime.settings import ServiceSettings

T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


async def test_a_review_is_found_by_instance_or_as_the_incidents_newest(database_url):
    service = Service("orchestrator", ServiceSettings(database_url=database_url),
                      metadata=(store.metadata,), clock=FrozenClock(T0))
    await service.store.create_all()
    try:
        async with service.store.transaction() as tx:
            await effect_store.add_review(tx.session, "MI-INC0000001", "INC0000001",
                                          {"title": "first", "cost": {}}, T0)
            await effect_store.add_review(tx.session, "MI2-INC0000001", "INC0000001",
                                          {"title": "reopened", "cost": {"EUR": "12.50"}},
                                          T0 + timedelta(hours=2))
            await effect_store.add_review(tx.session, "MI-INC0000002", "INC0000002",
                                          {"title": "other"}, T0 + timedelta(hours=3))
        async with service.store.transaction() as tx:  # the step ran again: replaced
            await effect_store.add_review(tx.session, "MI-INC0000001", "INC0000001",
                                          {"title": "first, again", "cost": {}},
                                          T0 + timedelta(minutes=1))
        async with service.store.read() as session:
            newest = await effect_store.review_of(session, incident_id="INC0000001")
            first = await effect_store.review_of(session, workflow_id="MI-INC0000001")
            none = await effect_store.review_of(session, incident_id="INC0000003")
        assert (newest.workflow_id, newest.review["cost"]) == ("MI2-INC0000001",
                                                               {"EUR": "12.50"})
        assert newest.recorded_at == T0 + timedelta(hours=2)
        assert (first.review["title"], first.recorded_at) == ("first, again",
                                                             T0 + timedelta(minutes=1))
        assert none is None
    finally:
        await service.store.close()
