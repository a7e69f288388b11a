"""The on-call commands: an override ("I take Tuesday night") made and removed, each
taking ``oncall.override`` for the schedule's team; and what a paged person does from
the link in the page (acknowledge, resolve, escalate), as that person, once. Each is an
event on record."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from reasonops_contracts import Envelope
from reasonops_contracts.incidents import AcknowledgeIncident, IncidentView, ResolveIncident
from reasonops_contracts.oncall import (
    ActFromPage,
    CreateOverride,
    OverrideView,
    PageAction,
    RemoveOverride,
)
from reasonops_runtime import Service
from reasonops_runtime.client import request
from reasonops_runtime.enforcement import Enforcer
from reasonops_runtime.policy import Forbidden
from reasonops_runtime.rpc import DomainError, IllegalTransition, NotFound

from . import events, store
from .current import CurrentRoster, schedule_of
from .events import SOURCE
from .handlers import Pager
from .links import LinkRefused, verify
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
                    tx.emit(Envelope.wrap(events.override_created(view), source=SOURCE,
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
            tx.emit(Envelope.wrap(events.override_removed(view, command.actor, now),
                                  source=SOURCE, subject=name))
        return view

    def register(self) -> None:
        self.service.respond(CreateOverride, self.override)
        self.service.respond(RemoveOverride, self.remove)


class PageCommands:
    def __init__(self, service: Service, pager: Pager, key: bytes) -> None:
        self.service = service
        self.pager = pager
        self.key = key

    async def act(self, command: ActFromPage) -> PageAction:
        now = self.service.clock.now()
        try:
            link = verify(self.key, command.token, now)
        except LinkRefused as exc:
            raise Forbidden(f"token: {exc}", "token", denial=Envelope.wrap(
                events.link_refused(command.actor, command.action, str(exc), now),
                source=SOURCE, subject=command.action, time=now)) from None
        try:
            async with self.service.transaction() as tx:
                await store.use_link(tx.session, link.nonce, link.incident_id, link.user,
                                     command.action, now)
        except IntegrityError:
            raise IllegalTransition("token: this link was used already; it works once",
                                    "token") from None
        try:
            done = await self._do(command.action, link.incident_id, link.user)
        except BaseException:
            async with self.service.transaction() as tx:  # not done: the link still works
                await store.release_link(tx.session, link.nonce)
            raise
        async with self.service.transaction() as tx:
            tx.emit(Envelope.wrap(events.acted_on(link.incident_id, link.user,
                                                  command.action, now),
                                  source=SOURCE, subject=link.incident_id))
        return PageAction(incident_id=link.incident_id, user=link.user, action=command.action,
                          done=done)

    async def _do(self, action: str, incident_id: str, user: str) -> str:
        actor = f"user:{user}"
        if action == "acknowledge":
            view = await request(self.service.nc, AcknowledgeIncident(
                incident_id=incident_id, actor=actor, note="acknowledged from the page"),
                IncidentView)
            return f"{incident_id} is {view.state}; nobody else is paged for it"
        if action == "resolve":
            view = await request(self.service.nc, ResolveIncident(
                incident_id=incident_id, actor=actor, note="resolved from the page"),
                IncidentView)
            return f"{incident_id} is {view.state}"
        async with self.service.transaction() as tx:
            return await self.pager.escalate_now(tx, incident_id)

    def register(self) -> None:
        self.service.respond(ActFromPage, self.act)
