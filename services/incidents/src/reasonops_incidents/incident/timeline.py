"""Timeline entries collected during a unit of work and written in one insert."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from reasonops_contracts.incidents import TimelineEntry

from . import store


class Timeline:
    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def add(self, incident_id: str, at: datetime, actor: str, kind: str, detail: str,
            **data: str) -> None:
        self.entries.append({"incident_id": incident_id, "at": at, "actor": actor,
                             "kind": kind, "detail": detail[:4000], "data": data})

    async def save(self, session: AsyncSession) -> None:
        await store.add_timeline(session, self.entries)
        self.entries = []


def entry_view(row: Any) -> TimelineEntry:
    return TimelineEntry(at=row.at, actor=row.actor, kind=row.kind, detail=row.detail,
                         data=row.data or {})
