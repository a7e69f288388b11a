"""The on-call queries: who is on call (for a schedule or a service, now or at a time),
a schedule's turns, gaps and calendar, and the schedules; a reader sees the schedules of
the teams its roles cover."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from reasonops_contracts.catalog import ServiceCatalog
from reasonops_contracts.oncall import (
    GetShifts,
    ListSchedules,
    OnCallNow,
    ScheduleList,
    ScheduleView,
    ShiftList,
    WhoIsOnCall,
)
from reasonops_runtime import Service
from reasonops_runtime.enforcement import Enforcer
from reasonops_runtime.rpc import DomainError, NotFound

from .current import AROUND, CurrentRoster, schedule_of
from .rotation import Roster, Schedule
from .views import calendar, layer_view, override_view, person_view, shift_view

AHEAD = timedelta(days=14)


class OnCallQueries:
    def __init__(self, service: Service, roster: CurrentRoster, enforcer: Enforcer,
                 catalog: ServiceCatalog) -> None:
        self.service = service
        self.roster = roster
        self.enforcer = enforcer
        self.catalog = catalog

    def _readable(self, actor: str, schedule: Schedule, now: datetime) -> None:
        self.enforcer.readable(actor, at=now, reading="on-call schedule", team=schedule.team,
                               service=None)

    def _now(self, roster: Roster, schedule: Schedule, at: datetime) -> OnCallNow:
        turns = schedule.turns(at - AROUND, at + AROUND)
        turn = next(t for t in turns if t.start <= at < t.end)
        person = roster.people.get(turn.user) if turn.user else None
        return OnCallNow(schedule=schedule.name, team=schedule.team, at=at,
                         person=person_view(person) if person else None, layer=turn.layer,
                         since=turn.start.astimezone(UTC) if turn.start > at - AROUND else None,
                         until=turn.end.astimezone(UTC) if turn.end < at + AROUND else None)

    async def who(self, query: WhoIsOnCall) -> OnCallNow:
        now = self.service.clock.now()
        roster = await self.roster.read()
        if query.schedule is not None:
            schedule = schedule_of(roster, query.schedule)
        else:
            service = str(query.service)
            entry = self.catalog.get(service)
            found = roster.schedule_for(service, entry.owner if entry else None)
            if found is None:
                raise NotFound(f"no schedule answers for service {service!r} (name one under "
                               "services, or give its owning team a schedule)", "service")
            schedule = found
        self._readable(query.actor, schedule, now)
        return self._now(roster, schedule, query.at or now)

    async def shifts(self, query: GetShifts) -> ShiftList:
        now = self.service.clock.now()
        roster = await self.roster.read()
        schedule = schedule_of(roster, query.schedule)
        self._readable(query.actor, schedule, now)
        start = query.start or now
        end = query.end or start + AHEAD
        if end <= start:
            raise DomainError("end: must be after start", "end")
        turns = schedule.turns(start, end)
        # The calendar's events are whole turns (not cut at the window), so each keeps its
        # UID from one export to the next and a calendar app updates rather than doubles.
        whole = [t for t in schedule.turns(start - AROUND, end + AROUND)
                 if t.end > start and t.start < end]
        return ShiftList(schedule=schedule.name, time_zone=str(schedule.zone), start=start,
                         end=end, shifts=[shift_view(t) for t in turns],
                         gaps=[shift_view(t) for t in turns if t.user is None],
                         calendar=calendar(schedule, roster, whole, now))

    async def schedules(self, query: ListSchedules) -> ScheduleList:
        now = self.service.clock.now()
        visible = self.enforcer.visibility(query.actor, at=now, reading="on-call schedules")
        roster = await self.roster.read()
        items = []
        for schedule in roster.schedules.values():
            if not visible.covers(schedule.team, None):
                continue
            items.append(ScheduleView(
                name=schedule.name, team=schedule.team, time_zone=str(schedule.zone),
                layers=[layer_view(layer) for layer in schedule.layers],
                overrides=[override_view(schedule.name, o) for o in schedule.overrides
                           if o.end > now],
                services=sorted(s for s, n in roster.services.items() if n == schedule.name),
                on_call=self._now(roster, schedule, now),
                gaps_next_14_days=len(schedule.gaps(now, now + AHEAD))))
        people = sorted({u for s in roster.schedules.values() if visible.covers(s.team, None)
                         for layer in s.layers for u in layer.users})
        return ScheduleList(items=items, people=[person_view(roster.people[p]) for p in people],
                            loaded_at=self.roster.file.loaded_at, error=self.roster.file.error)

    def register(self) -> None:
        self.service.respond(WhoIsOnCall, self.who)
        self.service.respond(GetShifts, self.shifts)
        self.service.respond(ListSchedules, self.schedules)
