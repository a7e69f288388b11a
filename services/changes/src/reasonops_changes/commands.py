"""The change commands: request (checked against the calendar), the advisory board's
decision and an emergency's review (sent by the orchestrator's workflows), start (a
maintenance window on the affected services), complete (the window ends), cancel. Each
takes its role-policy action on every affected service; each is an event."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from reasonops_contracts import ReplyError
from reasonops_contracts.catalog import ServiceCatalog
from reasonops_contracts.changes import (
    ApproveChange,
    CancelChange,
    ChangeView,
    CompleteChange,
    RejectChange,
    RequestChange,
    ReviewChange,
    StartChange,
)
from reasonops_contracts.incidents import CreateSilence, ExpireSilence, SilenceView
from reasonops_runtime import Service
from reasonops_runtime.client import request
from reasonops_runtime.enforcement import Enforcer
from reasonops_runtime.rpc import DomainError, IllegalTransition, NotFound
from reasonops_runtime.store import Session

from . import domain, events, store
from .config import ChangeFile
from .domain import Change, ChangeRefused
from .metrics import ChangeCounters
from .views import change_view

log = logging.getLogger(__name__)

EMERGENCY_REVIEW = "approved as an emergency; reviewed after the fact"


class ChangeCommands:
    def __init__(self, service: Service, changes: ChangeFile, catalog: ServiceCatalog,
                 enforcer: Enforcer, counters: ChangeCounters) -> None:
        self.service = service
        self.file = changes
        self.catalog = catalog
        self.enforcer = enforcer
        self.counters = counters

    def _require(self, actor: str, action: str, services: list[str], at: datetime,
                 target: str) -> None:
        for name in services:
            entry = self.catalog.get(name)
            self.enforcer.require(actor, action, at=at, team=entry.owner if entry else None,
                                  service=name, target=target)

    async def request(self, command: RequestChange) -> ChangeView:
        now = self.service.clock.now()
        change = self._draft(command, now)
        self._require(command.actor, "change.request", change.services, now, change.title)
        for attempt in range(3):  # two replicas numbering at once: the loser numbers again
            try:
                async with self.service.transaction() as tx:
                    others = await store.open_between(tx.session, change.planned_start,
                                                      change.planned_end)
                    try:
                        domain.collisions(change, others, self.file.spec.freezes)
                    except ChangeRefused as exc:
                        self.counters.refused.labels(str(exc).split(":", 1)[0]).inc()
                        raise IllegalTransition(str(exc), exc.field) from None
                    change.change_id = await store.next_change_id(tx.session)
                    await store.add(tx.session, change)
                    tx.emit(events.requested(change))
                    if change.state == "approved":
                        tx.emit(events.approved(change, now))
                self.counters.requested.labels(change.type).inc()
                return change_view(change)
            except IntegrityError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _draft(self, command: RequestChange, now: datetime) -> Change:
        """The change a request describes (a standard one from its template), checked
        against the catalog, with its risk."""
        title, services, end = command.title, list(command.services), command.planned_end
        plan, backout = command.implementation_plan, command.backout_plan
        if command.type == "standard":
            template = self.file.spec.templates.get(str(command.template))
            if template is None:
                known = ", ".join(sorted(self.file.spec.templates)) or "none"
                raise DomainError(f"template: no template {command.template!r} (the change "
                                  f"file has {known})", "template")
            services = services or list(template.services)
            outside = [s for s in services if s not in template.services]
            if outside:
                raise DomainError(f"services: template {command.template} is approved for "
                                  f"{', '.join(template.services)}, not "
                                  f"{', '.join(outside)}", "services")
            title = title or template.title
            end = end or command.planned_start + template.duration
            if end - command.planned_start > template.duration:
                raise DomainError(f"planned_end: template {command.template} allows "
                                  f"{template.duration} at most", "planned_end")
            plan = plan or template.implementation_plan
            backout = backout or template.backout_plan
        known_services = {s.name for s in self.catalog.services}
        unknown = [s for s in services if known_services and s not in known_services]
        if unknown:
            raise DomainError(f"services: {', '.join(unknown)} not in the service catalog",
                              "services")
        assert title is not None
        assert end is not None
        risk, why = domain.assess(command.type, command.impact, services, self.catalog,
                                  backout)
        change = Change(
            change_id="", type=command.type, state="requested", title=title,
            services=services, risk=risk, risk_reason=why, impact=command.impact,
            planned_start=command.planned_start, planned_end=end,
            requested_by=command.actor, requested_at=now, description=command.description,
            implementation_plan=plan, backout_plan=backout, template=command.template)
        if command.type == "standard":
            change.state, change.decided_at = "approved", now
            change.approved_by = [f"template:{command.template}"]
            change.decision = f"pre-approved template {command.template}"
        elif command.type == "emergency":
            change.state, change.decided_at, change.review_due = "approved", now, True
            change.approved_by = [command.actor]
            change.decision = EMERGENCY_REVIEW
        return change

    async def _change(self, session: Session, change_id: str) -> Change:
        found = await store.get(session, change_id, lock=True)
        if found is None:
            raise NotFound(f"no change {change_id}", "change_id")
        return found

    def _step(self, change: Change, action: str) -> None:
        try:
            domain.step(change, action, self.service.clock.now())
        except ChangeRefused as exc:
            raise IllegalTransition(str(exc), exc.field) from None

    async def approve(self, command: ApproveChange) -> ChangeView:
        return await self._decide(command, True, command.approvers or [command.actor])

    async def reject(self, command: RejectChange) -> ChangeView:
        return await self._decide(command, False, [command.rejected_by or command.actor])

    async def _decide(self, command: ApproveChange | RejectChange, approved: bool,
                      who: list[str]) -> ChangeView:
        now = self.service.clock.now()
        async with self.service.transaction() as tx:
            change = await self._change(tx.session, command.change_id)
            self._require(command.actor, "change.approve", change.services, now,
                          change.change_id)
            self._step(change, "approve" if approved else "reject")
            change.state = "approved" if approved else "rejected"
            change.decided_at, change.approved_by = now, who if approved else []
            change.decision = command.note or ("approved by the change advisory board"
                                               if approved else "rejected")
            await store.save(tx.session, change)
            tx.emit(events.approved(change, now) if approved
                    else events.rejected(change, who[0], now))
        return change_view(change)

    async def start(self, command: StartChange) -> ChangeView:
        now = self.service.clock.now()
        async with self.service.store.read() as session:
            change = await self._change(session, command.change_id)
        self._require(command.actor, "change.implement", change.services, now,
                      change.change_id)
        self._step(change, "start")
        silences = await self._maintenance(change, now)
        try:
            async with self.service.transaction() as tx:
                change = await self._change(tx.session, command.change_id)
                self._step(change, "start")
                change.state, change.started_at = "implementing", now
                change.silence_ids, change.note = silences, command.note or change.note
                await store.save(tx.session, change)
                tx.emit(events.started(change, command.actor, now))
        except BaseException:
            await self._end_maintenance(silences)  # started by someone else meanwhile
            raise
        return change_view(change)

    async def _maintenance(self, change: Change, now: datetime) -> list[str]:
        """A maintenance window on each affected service until the planned end (an
        emergency past its planned end: for as long as it was planned)."""
        ends = change.planned_end if change.planned_end > now else \
            now + (change.planned_end - change.planned_start)
        made: list[str] = []
        try:
            for name in change.services:
                view = await request(self.service.nc, CreateSilence(
                    kind="maintenance", matchers=[f"service={name}"], starts_at=now,
                    ends_at=ends, reason=f"{change.change_id}: {change.title}"[:1024]),
                    SilenceView)
                made.append(view.silence_id)
        except ReplyError as exc:
            await self._end_maintenance(made)
            raise DomainError(f"the incident service refused the maintenance window: "
                              f"{exc.detail.message}", "services") from None
        return made

    async def _end_maintenance(self, silence_ids: list[str]) -> None:
        for silence_id in silence_ids:
            try:
                await request(self.service.nc, ExpireSilence(silence_id=silence_id),
                              SilenceView)
            except ReplyError as exc:  # expired by hand already, or gone
                log.info("maintenance window not ended", extra={
                    "silence_id": silence_id, "error": exc.detail.message})

    async def complete(self, command: CompleteChange) -> ChangeView:
        now = self.service.clock.now()
        async with self.service.transaction() as tx:
            change = await self._change(tx.session, command.change_id)
            self._require(command.actor, "change.implement", change.services, now,
                          change.change_id)
            self._step(change, "complete")
            change.state, change.completed_at, change.outcome = "completed", now, \
                command.outcome
            change.note = command.note or change.note
            await store.save(tx.session, change)
            tx.emit(events.completed(change, command.actor, now))
        self.counters.completed.labels(change.type, command.outcome).inc()
        await self._end_maintenance(change.silence_ids)
        return change_view(change)

    async def cancel(self, command: CancelChange) -> ChangeView:
        now = self.service.clock.now()
        async with self.service.transaction() as tx:
            change = await self._change(tx.session, command.change_id)
            self._require(command.actor, "change.request", change.services, now,
                          change.change_id)
            self._step(change, "cancel")
            change.state, change.note = "cancelled", command.note or change.note
            await store.save(tx.session, change)
            tx.emit(events.cancelled(change, command.note or "cancelled", command.actor,
                                     now))
        return change_view(change)

    async def review(self, command: ReviewChange) -> ChangeView:
        now = self.service.clock.now()
        async with self.service.transaction() as tx:
            change = await self._change(tx.session, command.change_id)
            self._require(command.actor, "change.approve", change.services, now,
                          change.change_id)
            if not change.review_due:
                raise IllegalTransition(f"{change.change_id} owes no review (only an "
                                        "emergency change does, once)", "change_id")
            change.review_due, change.reviewed_by = False, command.reviewed_by or command.actor
            await store.save(tx.session, change)
            tx.emit(events.reviewed(change, command.accepted, command.note, now))
        return change_view(change)

    def register(self) -> None:
        for model, fn in ((RequestChange, self.request), (ApproveChange, self.approve),
                          (RejectChange, self.reject), (StartChange, self.start),
                          (CompleteChange, self.complete), (CancelChange, self.cancel),
                          (ReviewChange, self.review)):
            self.service.respond(model, fn)  # type: ignore[arg-type]
