"""The on-call commands: an override ("I take Tuesday night") made and removed, each
taking ``oncall.override`` for the schedule's team, and each an event on record."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from reasonops_contracts import Envelope
from reasonops_contracts.oncall import (
    CreateOverride,
    OverrideCreated,
    OverrideRemoved,
    OverrideView,
    RemoveOverride,
)
from reasonops_runtime import Service
from reasonops_runtime.enforcement import Enforcer
from reasonops_runtime.rpc import DomainError, NotFound

from . import store
from .current import SOURCE, CurrentRoster, schedule_of
from .rotation import Override
from .views import override_view


class OverrideCommands:
    def __init__(self, service: Service, roster: CurrentRoster, enforcer: Enforcer) -> None:
        self.service = service
        self.roster = roster
        self.enforcer = enforcer

    async def override(self, command: CreateOverride) -> OverrideView:
        now = self.service.clock.now()
        roster = await self.roster.read()
        schedule = schedule_of(roster, command.schedule)
        self.enforcer.require(command.actor, "oncall.override", at=now, team=schedule.team,
                              target=schedule.name)
        if command.user not in roster.people:
            raise DomainError(f"user: no user {command.user!r} in the on-call file", "user")
        if command.end <= now:
            raise DomainError("end: already past", "end")
        for attempt in range(3):  # two replicas numbering at once: the loser numbers again
            try:
                async with self.service.transaction() as tx:
                    made = Override(await store.next_override_id(tx.session), command.user,
                                    command.start, command.end, command.reason,
                                    command.actor, now, "command")
                    await store.add_override(tx.session, schedule.name, made)
                    view = override_view(schedule.name, made)
                    tx.emit(Envelope.wrap(OverrideCreated(override=view), source=SOURCE,
                                          subject=schedule.name))
                return view
            except IntegrityError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def remove(self, command: RemoveOverride) -> OverrideView:
        now = self.service.clock.now()
        async with self.service.transaction() as tx:
            found = await store.get_override(tx.session, command.override_id)
            if found is None:
                raise NotFound(f"no override {command.override_id}", "override_id")
            name, made = found
            team = self.roster.file.current(now).schedules.get(name)
            self.enforcer.require(command.actor, "oncall.override", at=now,
                                  team=team.team if team else None, target=name)
            await store.remove_override(tx.session, made.override_id, command.actor, now)
            view = override_view(name, made)
            tx.emit(Envelope.wrap(OverrideRemoved(override=view, removed_by=command.actor,
                                                  removed_at=now),
                                  source=SOURCE, subject=name))
        return view

    def register(self) -> None:
        self.service.respond(CreateOverride, self.override)
        self.service.respond(RemoveOverride, self.remove)
