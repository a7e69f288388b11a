"""The security agent's window of recent events and the findings it made."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import (
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    distinct,
    func,
    insert,
    or_,
    select,
)

from reasonops_runtime import UtcDateTime
from reasonops_runtime.migrations import schema
from reasonops_runtime.store import Session

from .domain import SecurityEvent, WindowStats

metadata = MetaData(info=schema("agent-security", "reasonops_agent_security:revisions"))

events = Table(
    "security_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(128), nullable=False),
    Column("account", String(256), nullable=True),
    Column("kind", String(32), nullable=False),
    Column("service", String(256), nullable=True),
    Column("at", UtcDateTime(), nullable=False, index=True),
    # When it was stored (the service's clock): an event is forgotten only once it is
    # old both by its own time and by this, so one event whose time is far ahead (a
    # sender's clock, a live alert among replayed logs) never forgets the others.
    Column("stored_at", UtcDateTime(), nullable=True),
    # A window is a source's or an account's events over a time: under a flood of
    # logins an hour holds hundreds of thousands of other sources' events.
    Index("ix_security_events_source_at", "source", "at"),
    Index("ix_security_events_account_at", "account", "at"),
)

findings = Table(
    "security_findings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(128), nullable=False, index=True),
    Column("pattern", String(32), nullable=False),
    Column("detected_at", UtcDateTime(), nullable=False),
    Column("request_id", String(128), nullable=False, unique=True),
)


async def add(session: Session, found: Sequence[SecurityEvent], stored_at: datetime
              ) -> None:
    if found:
        await session.execute(insert(events), [dict(source=e.source, account=e.account,
                                                    kind=e.kind, service=e.service, at=e.at,
                                                    stored_at=stored_at)
                                               for e in found])


async def window(session: Session, source: str, end: datetime,
                 seconds: int) -> WindowStats:
    """Failures, distinct accounts, those of them that logged in, and WAF blocks from
    ``source`` in (end - seconds, end]."""
    start = end - timedelta(seconds=seconds)
    scope = (events.c.source == source, events.c.at > start, events.c.at <= end)
    row = (await session.execute(
        select(func.count(), func.count(distinct(events.c.account)), func.min(events.c.at),
               func.max(events.c.service))
        .where(*scope, events.c.kind == "login_failure"))).one()
    waf = (await session.execute(select(func.count()).where(
        *scope, events.c.kind == "waf_block"))).scalar_one()
    top = (await session.execute(
        select(events.c.account, func.count().label("n"))
        .where(*scope, events.c.kind == "login_failure", events.c.account.is_not(None))
        .group_by(events.c.account).order_by(func.count().desc()).limit(10))).all()
    granted = (await session.execute(
        select(events.c.account).distinct()
        .where(*scope, events.c.kind == "privilege_change", events.c.account.is_not(None))
        .order_by(events.c.account))).scalars().all()
    failed = select(events.c.account).where(*scope, events.c.kind == "login_failure")
    recovered = (await session.execute(
        select(func.count(distinct(events.c.account)))
        .where(*scope, events.c.kind == "login_success", events.c.account.in_(failed))
    )).scalar_one()
    return WindowStats(source=source, failures=int(row[0]), accounts=int(row[1]),
                       waf_blocks=int(waf), top_accounts=tuple(r.account for r in top),
                       service=row[3], first_at=row[2], last_at=end,
                       privileged=tuple(str(a) for a in granted), recovered=int(recovered),
                       seconds=seconds)


async def accounts_under_fire(session: Session, accounts: Sequence[str], end: datetime,
                              seconds: int, failures: int) -> list[WindowStats]:
    """The long windows of ``accounts`` that failed at least ``failures`` times in
    (end - seconds, end], each from its busiest source (two statements)."""
    if not accounts:
        return []
    scope = (events.c.kind == "login_failure", events.c.at > end - timedelta(seconds=seconds),
             events.c.at <= end)
    busy = (await session.execute(
        select(events.c.account, func.count(), func.count(distinct(events.c.source)),
               func.min(events.c.at), func.max(events.c.service))
        .where(*scope, events.c.account.in_(sorted(set(accounts))))
        .group_by(events.c.account).having(func.count() >= failures))).all()
    if not busy:
        return []
    by_source = (await session.execute(
        select(events.c.account, events.c.source, func.count().label("n"))
        .where(*scope, events.c.account.in_([row[0] for row in busy]))
        .group_by(events.c.account, events.c.source))).all()
    busiest: dict[str, tuple[int, str]] = {}
    for account, source, n in by_source:
        if (n, source) > busiest.get(account, (0, "")):
            busiest[account] = (n, source)
    return [WindowStats(source=busiest[account][1], failures=int(n), accounts=1,
                        waf_blocks=0, top_accounts=(account,), service=service,
                        first_at=first, last_at=end, seconds=seconds, sources=int(sources))
            for account, n, sources, first, service in busy]


async def recently_found(session: Session, source: str, pattern: str, since: datetime
                         ) -> bool:
    row = await session.execute(select(findings.c.id).where(
        findings.c.source == source, findings.c.pattern == pattern,
        findings.c.detected_at > since).limit(1))
    return row.first() is not None


async def record_finding(session: Session, source: str, pattern: str, at: datetime,
                         request_id: str) -> None:
    await session.execute(insert(findings), [dict(source=source, pattern=pattern,
                                                  detected_at=at, request_id=request_id)])


async def forget_before(session: Session, before: datetime, stored_before: datetime
                        ) -> None:
    """Forget the events older than ``before`` stored before ``stored_before``."""
    await session.execute(delete(events).where(
        events.c.at < before,
        or_(events.c.stored_at.is_(None), events.c.stored_at < stored_before)))
