"""Ingest's queries beyond integrations (``commands.py``): the heartbeats and their state."""

from __future__ import annotations

from reasonops_contracts.ingest import HeartbeatList, HeartbeatView, ListHeartbeats
from reasonops_runtime import Store

from . import store


class HeartbeatQueries:
    def __init__(self, db: Store) -> None:
        self.db = db

    async def list_all(self, query: ListHeartbeats) -> HeartbeatList:
        """Every heartbeat, or those of one integration, with when each is next due."""
        async with self.db.read() as session:
            rows = await store.all_heartbeats(session, query.integration)
        return HeartbeatList(items=[HeartbeatView(
            integration=r.integration, name=r.name, interval_seconds=r.interval_seconds,
            status=r.status, last_seen_at=r.last_seen_at, due_at=r.due_at,
            fingerprint=r.fingerprint) for r in rows])
