"""Silence and maintenance window commands and queries."""

from __future__ import annotations

from reasonops_contracts.incidents import (
    CreateSilence,
    ExpireSilence,
    GetSilence,
    ListSilences,
    SilenceList,
    SilenceView,
)
from reasonops_runtime import DomainError, IllegalTransition, NotFound, Service

from ..access import Access
from ..incident import store
from ..matchers import parse_matcher
from ..store import Numbers
from .domain import Schedule, Silence
from .store import SilenceBook, expire, get_silence, insert_silence, list_silences
from .views import silence_view


class SilenceCommands:
    """Silence and maintenance window commands and queries, each checked against the role
    policy for the service the matchers name."""

    def __init__(self, service: Service, book: SilenceBook, access: Access) -> None:
        self.service = service
        self.book = book
        self.access = access

    async def create(self, cmd: CreateSilence) -> SilenceView:
        now = self.service.clock.now()
        self.access.silence(cmd.author, "create", cmd.matchers)
        for i, text in enumerate(cmd.matchers):
            try:
                parse_matcher(text)
            except ValueError as exc:
                raise DomainError(str(exc), f"matchers.{i}") from None
        starts = cmd.starts_at or now
        if cmd.schedule is None and cmd.ends_at is None:
            raise DomainError("give ends_at, or a recurring schedule", "ends_at")
        if cmd.schedule is not None and cmd.ends_at is not None:
            raise DomainError("a recurring window has a schedule, not ends_at", "ends_at")
        if cmd.ends_at is not None and cmd.ends_at <= starts:
            raise DomainError("ends_at must be after starts_at", "ends_at")
        if cmd.ends_at is not None and cmd.ends_at <= now:
            raise DomainError("ends_at is in the past", "ends_at")
        async with self.service.transaction() as tx:
            numbers = Numbers(tx.session)
            silence = Silence(
                silence_id=f"SIL{await numbers.next('silence'):07d}", kind=cmd.kind,
                matchers=tuple(cmd.matchers), starts_at=starts, ends_at=cmd.ends_at,
                author=cmd.author, reason=cmd.reason, created_at=now, until=cmd.until,
                schedule=None if cmd.schedule is None else Schedule(
                    tuple(cmd.schedule.days), cmd.schedule.start,
                    cmd.schedule.duration_seconds))
            await insert_silence(tx.session, silence)
            await numbers.save()
        self.book.invalidate()
        return silence_view(silence, now)

    async def expire_(self, cmd: ExpireSilence) -> SilenceView:
        now = self.service.clock.now()
        async with self.service.transaction() as tx:
            silence = await get_silence(tx.session, cmd.silence_id)
            if silence is None:
                raise NotFound(f"no silence {cmd.silence_id}", "silence_id")
            self.access.silence(cmd.actor, "expire", silence.matchers, cmd.silence_id)
            if silence.state(now) == "expired":
                raise IllegalTransition(f"{cmd.silence_id} has already expired", "silence_id")
            await expire(tx.session, cmd.silence_id, now)
            silence.expired_at = now
        self.book.invalidate()
        return silence_view(silence, now)

    async def list_(self, query: ListSilences) -> SilenceList:
        now = self.service.clock.now()
        async with self.service.store.read() as session:
            found = await list_silences(session, now=now, include_expired=query.include_expired)
        return SilenceList(items=[silence_view(s, now) for s in found])

    async def get(self, query: GetSilence) -> SilenceView:
        async with self.service.store.read() as session:
            silence = await get_silence(session, query.silence_id)
            if silence is None:
                raise NotFound(f"no silence {query.silence_id}", "silence_id")
            alerts = await store.alerts_of_silence(session, query.silence_id)
        return silence_view(silence, self.service.clock.now(), alerts)

    def register(self) -> None:
        self.service.respond(CreateSilence, self.create)
        self.service.respond(ExpireSilence, self.expire_)
        self.service.respond(ListSilences, self.list_)
        self.service.respond(GetSilence, self.get)


def register_silences(service: Service, book: SilenceBook, access: Access) -> None:
    SilenceCommands(service, book, access).register()
