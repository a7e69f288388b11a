"""The paces a scan forecasts with, read once and kept until they move.

A pace is made of three reads: a group's latest met clocks of a kind, every group's of
that kind, and (for response clocks) the group's latest answered incidents. Each is kept
on its own and dropped when what it reads changes here (a clock met in that group and
kind, an incident answered in that group), or after ``KEPT`` (another replica may have
seen the change): a scan after one clock was met reads two things again, not every
group's pace.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta
from typing import TypeVar

from reasonops_runtime.store import Session

from . import store
from .domain import Answers, Pace

KEPT = timedelta(minutes=15)

Key = TypeVar("Key")
Value = TypeVar("Value")


class Paces:
    def __init__(self) -> None:
        self._own: dict[tuple[str | None, str], tuple[tuple[tuple[float, bool], ...],
                                                      datetime]] = {}
        self._everyone: dict[str, tuple[tuple[tuple[float, bool], ...], datetime]] = {}
        self._answers: dict[str, tuple[Answers, datetime]] = {}

    async def pace(self, session: Session, group: str | None, kind: str,
                   now: datetime) -> Pace:
        own = await _kept(self._own, (group, kind), now,
                          lambda: store.met_latest(session, kind, group)) if group else ()
        everyone = await _kept(self._everyone, kind, now,
                               lambda: store.met_latest(session, kind))
        answers = Answers()
        if group and kind == "response":
            async def read() -> Answers:
                return Answers.of(await store.answered(session, group))
            answers = await _kept(self._answers, group, now, read)
        return Pace(in_hours=tuple(s for s, in_hours in own if in_hours),
                    out_of_hours=tuple(s for s, in_hours in own if not in_hours),
                    everyone=tuple(s for s, _ in everyone), answered=answers)

    def met(self, moved: Iterable[tuple[str | None, str]]) -> None:
        """Clocks were met in these (group, kind)s."""
        for group, kind in moved:
            self._own.pop((group, kind), None)
            self._everyone.pop(kind, None)

    def answered(self, groups: Iterable[str]) -> None:
        """Incidents were answered in these groups."""
        for group in groups:
            self._answers.pop(group, None)


async def _kept(memo: dict[Key, tuple[Value, datetime]], key: Key, now: datetime,
                read: Callable[[], Awaitable[Value]]) -> Value:
    kept = memo.get(key)
    if kept is None or now - kept[1] > KEPT or now < kept[1]:
        kept = memo[key] = (await read(), now)
    return kept[0]
