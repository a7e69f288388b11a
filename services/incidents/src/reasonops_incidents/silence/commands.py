"""Silence and maintenance window commands: create and expire."""

from __future__ import annotations

from reasonops_contracts.incidents import (
    CreateSilence,
    ExpireSilence,
    SilenceView,
)
from reasonops_runtime import DomainError, IllegalTransition, NotFound, Service

from ..access import Access
from ..matchers import parse_matcher
from ..store import Numbers
from .domain import Schedule, Silence
from .queries import SilenceQueries
from .store import SilenceBook, expire, get_silence, insert_silence
from .views import silence_view


class SilenceCommands:
    """Create and expire silences and maintenance windows, each checked against the role
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

    def register(self) -> None:
        self.service.respond(CreateSilence, self.create)
        self.service.respond(ExpireSilence, self.expire_)


def register_silences(service: Service, book: SilenceBook, access: Access) -> None:
    SilenceCommands(service, book, access).register()
    SilenceQueries(service, access).register()
