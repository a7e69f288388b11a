"""The roster in force: the file's (reloaded when it changes) with the overrides made
by command, as the queries and commands read it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from reasonops_runtime import Service
from reasonops_runtime.rpc import NotFound

from . import store
from .config import RosterFile
from .rotation import Roster, Schedule

AROUND = timedelta(days=35)
"""How far from a time its turn is looked for (and overrides are kept in view)."""


class CurrentRoster:
    def __init__(self, service: Service, file: RosterFile) -> None:
        self.service = service
        self.file = file

    async def read(self, session: AsyncSession | None = None) -> Roster:
        """The roster now; in ``session`` when given (a transaction's)."""
        now = self.service.clock.now()
        roster = self.file.current(now)
        if session is not None:
            made = await store.overrides_until(session, now - AROUND)
        else:
            async with self.service.store.read() as reading:
                made = await store.overrides_until(reading, now - AROUND)
        return Roster(roster.people, roster.teams, {
            name: s.with_overrides(made.get(name, ())) for name, s in roster.schedules.items()},
            roster.services, roster.policies, roster.major)


def schedule_of(roster: Roster, name: str) -> Schedule:
    found = roster.schedules.get(name)
    if found is None:
        raise NotFound(f"no schedule {name!r}; known: {', '.join(roster.schedules) or 'none'}",
                       "schedule")
    return found
