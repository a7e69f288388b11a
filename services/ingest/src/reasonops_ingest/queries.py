"""Ingest's queries: the integrations (senders) and the heartbeats, with their state."""

from __future__ import annotations

from reasonops_contracts.ingest import (
    HeartbeatList,
    HeartbeatView,
    IntegrationList,
    ListHeartbeats,
    ListIntegrations,
)
from reasonops_runtime import Store
from reasonops_runtime.enforcement import Enforcer

from . import store


class HeartbeatQueries:
    def __init__(self, db: Store, enforcer: Enforcer) -> None:
        self.db = db
        self.enforcer = enforcer

    async def list_all(self, query: ListHeartbeats) -> HeartbeatList:
        """Every heartbeat, or those of one integration, with when each is next due; for
        whoever holds a role (``Forbidden`` on record for a principal with none)."""
        self.enforcer.visibility(query.actor, at=self.db.clock.now(), reading="heartbeats")
        async with self.db.read() as session:
            rows = await store.all_heartbeats(session, query.integration)
        return HeartbeatList(items=[HeartbeatView(
            integration=r.integration, name=r.name, interval_seconds=r.interval_seconds,
            status=r.status, last_seen_at=r.last_seen_at, due_at=r.due_at,
            fingerprint=r.fingerprint) for r in rows])


class IntegrationQueries:
    def __init__(self, db: Store, enforcer: Enforcer) -> None:
        self.db = db
        self.enforcer = enforcer

    async def list_all(self, query: ListIntegrations) -> IntegrationList:
        """Every integration (revoked ones too if asked), never a key; for whoever holds a
        role."""
        self.enforcer.visibility(query.actor, at=self.db.clock.now(), reading="integrations")
        async with self.db.read() as session:
            found = await store.all_integrations(session, include_revoked=query.include_revoked)
        return IntegrationList(items=[i.view() for i in found])
