"""The roster in force: the file's (reloaded when it changes; a refused change leaves
the previous one in force) with the overrides made by command, as the queries, commands
and handlers read it."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import yaml

from reasonops_runtime import Service
from reasonops_runtime.rpc import NotFound
from reasonops_runtime.store import Session

from . import store
from .config import OnCallError, load
from .rotation import Roster, Schedule

log = logging.getLogger(__name__)
AROUND = timedelta(days=35)
"""How far from a time its turn is looked for (and overrides are kept in view)."""


class CurrentRoster:
    def __init__(self, service: Service, file: RosterFile) -> None:
        self.service = service
        self.file = file
        self._in: tuple[Session, Roster, Roster] | None = None
        """The last transaction read in, the file's roster then and the roster read: a
        batch's events read it once (overrides change by command, in a transaction of
        their own)."""

    def file_roster(self) -> Roster:
        """The file's roster now, without the overrides (its people and their contacts,
        which no override changes): no statement."""
        return self.file.current(self.service.clock.now())

    async def read(self, session: Session | None = None) -> Roster:
        """The roster now; in ``session`` when given (a transaction's)."""
        now = self.service.clock.now()
        roster = self.file.current(now)
        if session is not None:
            if self._in is not None and self._in[0] is session and self._in[1] is roster:
                return self._in[2]
            made = await store.overrides_until(session, now - AROUND)
        else:
            async with self.service.store.read() as reading:
                made = await store.overrides_until(reading, now - AROUND)
        found = Roster(roster.people, roster.teams, {
            name: s.with_overrides(made.get(name, ())) for name, s in roster.schedules.items()},
            roster.services, roster.policies, roster.major)
        self._in = (session, roster, found) if session is not None else None
        return found


def schedule_of(roster: Roster, name: str) -> Schedule:
    found = roster.schedules.get(name)
    if found is None:
        raise NotFound(f"no schedule {name!r}; known: {', '.join(roster.schedules) or 'none'}",
                       "schedule")
    return found


@dataclass
class RosterFile:
    """The roster in force, reloaded when the file's modification time changes; a
    refused file leaves the previous roster in force and says why (``error``)."""

    path: Path | None
    roster: Roster
    error: str | None = None
    loaded_at: datetime | None = None
    _mtime: float | None = None

    @classmethod
    def open(cls, path: Path | None, now: datetime) -> RosterFile:
        """At start, a missing or bad file is fatal."""
        if path is None:
            return cls(None, Roster(), loaded_at=now)
        mtime = _mtime_of(path)
        return cls(path, load(path), loaded_at=now, _mtime=mtime)

    def current(self, now: datetime) -> Roster:
        if self.path is None:
            return self.roster
        try:
            mtime = _mtime_of(self.path)
        except OnCallError as exc:
            self._refuse(str(exc))
            return self.roster
        if mtime != self._mtime:
            self._mtime = mtime
            try:
                self.roster = load(self.path)
            except (OnCallError, yaml.YAMLError) as exc:
                self._refuse(str(exc))
            else:
                self.error, self.loaded_at = None, now
                log.info("on-call file reloaded", extra={"path": str(self.path)})
        return self.roster

    def _refuse(self, message: str) -> None:
        if message != self.error:
            log.error("on-call file refused; the previous one stays in force",
                      extra={"error": message})
        self.error = message


def _mtime_of(path: Path) -> float:
    try:
        return os.stat(path).st_mtime
    except OSError as exc:
        raise OnCallError(str(path), None, "(file)", f"cannot read: {exc.strerror}") from None
