"""Paging: an opened incident pages the first level of its service's escalation policy;
each paged person is notified by their own rules (high urgency, P1-P2: by default every
contact at once; low: e-mail); later levels follow after their delay, the policy
repeats as often as it says; an acknowledgement, resolution or close stops it, a reopen
starts it again from the first level. A level due while a silence or maintenance window
covers the incident waits until the window ends (``PageDeferred``), as the incident
service's own escalations do.

Everything due later is a durable timer (a level's page, each notification), so a
restart neither loses nor repeats a page: a timer is claimed by deleting its row in the
transaction that records what it did. Notifications are sent by ``notifications``; a
channel that keeps failing is on record (``NotificationSent`` failed) and delays no
level, since levels have timers of their own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from reasonops_contracts import Envelope
from reasonops_contracts.catalog import ServiceCatalog
from reasonops_contracts.incidents import (
    CoveringSilence,
    IncidentAcknowledged,
    IncidentClosed,
    IncidentMajorDeclared,
    IncidentOpened,
    IncidentReopened,
    IncidentResolved,
)
from reasonops_runtime import Clock, EventRouter, Timer, Transaction
from reasonops_runtime.store import NewTimer

from . import events, store
from .current import CurrentRoster
from .escalation import EscalationPolicy, Level
from .events import Chain
from .metrics import OnCallMetrics
from .notifications import NOTIFY_TIMER
from .rotation import Roster

LEVEL_TIMER = "oncall.level"
MAJOR = "major-incident"
STAKEHOLDERS = "stakeholders"
"""The ``user`` of an announcement to a stakeholders' channel."""
REPEAT_AFTER = timedelta(minutes=10)
SILENCED_RECHECK = timedelta(minutes=15)
"""When a silence without an end covers the incident: look again this much later."""
"""Between the last level and the first again, when the last level has no delay."""


def out_of_hours(at: datetime, zone: str) -> bool:
    """Outside 08:00-18:00, Monday to Friday, on the person's own clock."""
    local = at.astimezone(ZoneInfo(zone))
    return local.weekday() >= 5 or not 8 <= local.hour < 18


def urgency_of(priority: int) -> str:
    return "high" if priority <= 2 else "low"


def _prefix(incident_id: str) -> str:
    return f"oncall:{incident_id}:"


class Pager:
    def __init__(self, *, roster: CurrentRoster, catalog: ServiceCatalog, clock: Clock,
                 metrics: OnCallMetrics,
                 covering: Callable[[str], Awaitable[CoveringSilence | None]]) -> None:
        self.covering = covering
        """The silence covering an incident now (None: none, or nobody answered)."""
        self.roster = roster
        self.catalog = catalog
        self.clock = clock
        self.metrics = metrics

    def router(self) -> EventRouter:
        """Runs of opened, resolved, closed and major incidents are handled together, their
        pagings read in one statement; incidents nobody is paged for are not looked at."""
        router = EventRouter()
        router.on_many(IncidentOpened, wanted=self._has_policy)(self.opened)
        router.on(IncidentReopened)(self.reopened)
        router.on(IncidentAcknowledged)(self.acknowledged)
        router.on_many(IncidentResolved)(self.resolved)
        router.on_many(IncidentClosed)(self.closed)
        router.on_many(IncidentMajorDeclared,
                       wanted=lambda _: self.roster.file_roster().major is not None)(self.major)
        return router

    def _has_policy(self, event: IncidentOpened) -> bool:
        """Whether an escalation policy covers the incident's service (by the file)."""
        entry = self.catalog.get(event.service) if event.service else None
        return self.roster.file_roster().policy_for(
            event.service, entry.owner if entry else None) is not None

    async def major(self, tx: Transaction,
                    batch: list[tuple[Envelope, IncidentMajorDeclared]]) -> None:
        """Page the incident commanders at once and announce it to the stakeholders'
        channels (``major_incident`` in the file), whatever the escalation policy does
        (a commander its current level paged already is not paged twice)."""
        roster = await self.roster.read(tx.session)
        if roster.major is None:
            return
        rows = await store.get_pagings(tx.session, {event.incident_id for _, event in batch})
        now = self.clock.now()
        timers: dict[str, NewTimer] = {}  # by id: a second declaration re-arms the first's
        for envelope, event in batch:
            chain = Chain.of(envelope)
            users = roster.paged(Level(timedelta(0), roster.major.targets), now)
            row = rows.get(event.incident_id)
            policy = roster.policies.get(row.policy) if row is not None else None
            if row is not None and row.state == "paging" and policy is not None \
                    and row.level < len(policy.levels):  # paged already, by the policy
                already = set(roster.paged(policy.levels[row.level], now))
                users = [u for u in users if u not in already]
            tx.emit(chain.wrap(events.paged(event.incident_id, MAJOR, 1, 1, users, "high",
                                            now), event.incident_id))
            about = {"incident_id": event.incident_id, "title": event.title,
                     "service": event.service, "priority": event.priority, "level": 1,
                     "attempt": 1, "major": True}
            armed = [NewTimer(f"{_prefix(event.incident_id)}major:{user}:{i}", NOTIFY_TIMER,
                              now + rule.after, {**about, "user": user,
                                                 "channel": rule.contact},
                              chain.correlation_id, chain.causation_id)
                     for user in users
                     for i, rule in enumerate(roster.people[user].rules_for("high"))]
            armed += [NewTimer(f"{_prefix(event.incident_id)}announce:{i}", NOTIFY_TIMER, now,
                               {**about, "user": STAKEHOLDERS, "channel": contact.kind,
                                "address": contact.address}, chain.correlation_id,
                               chain.causation_id)
                      for i, contact in enumerate(roster.major.announce)]
            timers.update((timer.timer_id, timer) for timer in armed)
            for user in users:
                tx.after_commit(self.metrics.paged_people.labels(user).inc)
        await tx.rearm(list(timers.values()))

    async def opened(self, tx: Transaction,
                     batch: list[tuple[Envelope, IncidentOpened]]) -> None:
        roster = await self.roster.read(tx.session)
        for envelope, event in batch:
            entry = self.catalog.get(event.service) if event.service else None
            policy = roster.policy_for(event.service, entry.owner if entry else None)
            if policy is None:
                continue
            await store.start_paging(tx.session, incident_id=event.incident_id,
                                     policy=policy.name, title=event.title,
                                     service=event.service, priority=event.priority,
                                     at=self.clock.now())
            # The incident service says whether a silence covers it as it opens: not asked.
            await self._page(tx, roster, policy, event.incident_id, 0, 1, Chain.of(envelope),
                             covering=event.covering_silence)

    async def reopened(self, tx: Transaction, envelope: Envelope,
                       event: IncidentReopened) -> None:
        row = await store.get_paging(tx.session, event.incident_id)
        if row is None:
            return
        roster = await self.roster.read(tx.session)
        policy = roster.policies.get(row.policy)
        if policy is None:
            return
        await tx.cancel_under(_prefix(event.incident_id))
        await store.start_paging(tx.session, incident_id=row.incident_id, policy=row.policy,
                                 title=row.title, service=row.service,
                                 priority=row.priority, at=self.clock.now())
        await self._page(tx, roster, policy, row.incident_id, 0, 1, Chain.of(envelope))

    async def acknowledged(self, tx: Transaction, envelope: Envelope,
                           event: IncidentAcknowledged) -> None:
        row = await store.get_paging(tx.session, event.incident_id)
        if row is not None and row.state == "paging":
            policy = (await self.roster.read(tx.session)).policies.get(row.policy)
            self.metrics.acknowledged.labels(
                row.policy, (policy.team if policy else None) or "-", event.actor).observe(
                max(0.0, (event.acknowledged_at - row.started_at).total_seconds()))
        await self._stop(tx, envelope, event.incident_id, f"acknowledged by {event.actor}",
                         event.actor)

    async def resolved(self, tx: Transaction,
                       batch: list[tuple[Envelope, IncidentResolved]]) -> None:
        await self._stop_those_paging(tx, [(envelope, event.incident_id, "resolved",
                                            event.actor) for envelope, event in batch])

    async def closed(self, tx: Transaction,
                     batch: list[tuple[Envelope, IncidentClosed]]) -> None:
        await self._stop_those_paging(tx, [(envelope, event.incident_id, "closed",
                                            event.actor) for envelope, event in batch])

    async def _stop_those_paging(self, tx: Transaction,
                                 stops: list[tuple[Envelope, str, str, str]]) -> None:
        """(envelope, incident, what happened, by whom): one read finds those paging."""
        rows = await store.get_pagings(tx.session, {incident for _, incident, _, _ in stops})
        for envelope, incident_id, what, actor in stops:
            row = rows.get(incident_id)
            if row is not None and row.state == "paging":
                await self._stop(tx, envelope, incident_id, f"{what} by {actor}", actor)

    async def _stop(self, tx: Transaction, envelope: Envelope, incident_id: str, reason: str,
                    actor: str) -> None:
        now = self.clock.now()
        if await store.stop_paging(tx.session, incident_id, reason, now):
            await tx.cancel_under(_prefix(incident_id))
            tx.emit(Chain.of(envelope).wrap(events.stopped(incident_id, reason, actor, now),
                                            incident_id))

    async def _page(self, tx: Transaction, roster: Roster, policy: EscalationPolicy,
                    incident_id: str, level: int, cycle: int, chain: Chain,
                    covering: CoveringSilence | None = None) -> None:
        """Page ``level`` (0-based) now: notify each person it reaches, arm the next.
        ``covering``: the silence covering the incident, when known (else it is asked)."""
        now = self.clock.now()
        row = await store.get_paging(tx.session, incident_id)
        if row is None:
            return
        silence = covering if covering is not None else await self.covering(incident_id)
        if silence is not None and silence.silence_id:
            until = silence.until or now + SILENCED_RECHECK
            tx.emit(chain.wrap(events.deferred(incident_id, level + 1, silence.silence_id,
                                               until, now), incident_id))
            await tx.schedule(f"{_prefix(incident_id)}level", LEVEL_TIMER, until, {
                "incident_id": incident_id, "level": level, "cycle": cycle},
                correlation_id=chain.correlation_id, causation_id=chain.causation_id)
            return
        urgency = urgency_of(row.priority)
        users = roster.paged(policy.levels[level], now)
        tx.emit(chain.wrap(events.paged(incident_id, policy.name, level + 1, cycle, users,
                                        urgency, now), incident_id))
        self.metrics.pages.labels(policy.name, str(level + 1)).inc()
        timers = []
        for user in users:
            person = roster.people[user]
            self.metrics.paged_people.labels(user).inc()
            if out_of_hours(now, person.time_zone):
                self.metrics.out_of_hours.labels(user).inc()
            timers += [NewTimer(f"{_prefix(incident_id)}{cycle}:{level}:{user}:{i}",
                                NOTIFY_TIMER, now + rule.after, {
                                    "incident_id": incident_id, "user": user,
                                    "channel": rule.contact, "level": level + 1, "attempt": 1},
                                chain.correlation_id, chain.causation_id)
                       for i, rule in enumerate(person.rules_for(urgency))]
        await tx.rearm(timers)
        await store.paged_level(tx.session, incident_id, level, cycle)
        following = level + 1
        if following < len(policy.levels):
            due, next_cycle = now + policy.levels[following].after, cycle
        elif cycle <= policy.repeat:
            due, following, next_cycle = now + (policy.levels[-1].after or REPEAT_AFTER), 0, \
                cycle + 1
        else:
            return
        await tx.schedule(f"{_prefix(incident_id)}level", LEVEL_TIMER, due, {
            "incident_id": incident_id, "level": following, "cycle": next_cycle},
            correlation_id=chain.correlation_id, causation_id=chain.causation_id)

    async def escalate_now(self, tx: Transaction, incident_id: str) -> str:
        """Page the next level at once (the paged person asked); what happens, said."""
        row = await store.get_paging(tx.session, incident_id)
        if row is None or row.state != "paging":
            return "nothing: nobody is being paged for it now"
        policy = (await self.roster.read(tx.session)).policies.get(row.policy)
        if policy is None:
            return "nothing: its escalation policy is gone from the file"
        level, cycle = row.level + 1, row.cycle
        if level >= len(policy.levels):
            level, cycle = 0, cycle + 1
        await tx.schedule(f"{_prefix(incident_id)}level", LEVEL_TIMER, self.clock.now(), {
            "incident_id": incident_id, "level": level, "cycle": cycle})
        return f"level {level + 1} of {policy.name} is paged now"

    async def level_due(self, tx: Transaction, timer: Timer) -> None:
        incident_id = str(timer.payload["incident_id"])
        row = await store.get_paging(tx.session, incident_id)
        if row is None or row.state != "paging":
            return
        roster = await self.roster.read(tx.session)
        policy = roster.policies.get(row.policy)
        level = int(timer.payload["level"])
        if policy is None or level >= len(policy.levels):
            return
        await self._page(tx, roster, policy, incident_id, level, int(timer.payload["cycle"]),
                         Chain.of_timer(timer))
