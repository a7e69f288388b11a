"""The agent queue's tables: requests waiting for a decision, and the decisions made
(one per request id)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    case,
    func,
    or_,
    select,
)

from reasonops_runtime import UtcDateTime
from reasonops_runtime.migrations import schema
from reasonops_runtime.store import Session

metadata = MetaData(info=schema("agent-queue", "reasonops_llm:revisions"))

pending = Table(
    "agent_pending",
    metadata,
    Column("request_id", String(64), primary_key=True),
    Column("kind", String(64), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("cause", Text, nullable=False),
    Column("enqueued_at", UtcDateTime(), nullable=False),
    Column("lease_until", UtcDateTime(), nullable=True),
    Column("lease_owner", String(64), nullable=True, index=True),
    Column("attempts", Integer, nullable=False, default=0),
    # The request message's traceparent: the decision continues its trace.
    Column("trace_context", String(128), nullable=True),
)

decisions = Table(
    "agent_decisions",
    metadata,
    Column("decision_id", String(64), primary_key=True),
    Column("request_id", String(64), nullable=False, unique=True),
    Column("agent", String(32), nullable=False),
    Column("incident_id", String(32), nullable=True, index=True),
    Column("provider", String(64), nullable=False),
    Column("model", String(128), nullable=False),
    Column("decision", JSON, nullable=False),
    Column("decided_at", UtcDateTime(), nullable=False),
)


async def is_known(session: Session, request_ids: set[str]) -> set[str]:
    """Requests already decided or already waiting."""
    if not request_ids:
        return set()
    done = await session.execute(select(decisions.c.request_id)
                                 .where(decisions.c.request_id.in_(request_ids)))
    waiting = await session.execute(select(pending.c.request_id)
                                    .where(pending.c.request_id.in_(request_ids)))
    return {r.request_id for r in done} | {r.request_id for r in waiting}


async def counts(session: Session, max_attempts: int, now: datetime) -> tuple[int, int]:
    """How many requests wait for a decision, and how many were given up: every attempt
    failed (the last one's lease over), kept undecided and never tried again."""
    out = and_(pending.c.attempts >= max_attempts,
               or_(pending.c.lease_until.is_(None), pending.c.lease_until < now))
    total, given_up = (await session.execute(select(
        func.count(), func.coalesce(func.sum(case((out, 1), else_=0)), 0)
    ).select_from(pending))).one()
    return int(total) - int(given_up), int(given_up)
