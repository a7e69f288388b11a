"""The SLM service's tables: SLA clocks, penalties, what it knows of incidents, months."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, fields
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    bindparam,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.sql.elements import ColumnElement

from reasonops_runtime import UtcDateTime
from reasonops_runtime.migrations import schema
from reasonops_runtime.store import Session, select_in

from .domain import SlaClock
from .penalties import Penalty
from .schedule import ALWAYS, Schedule

metadata = MetaData(info=schema("slm", "reasonops_slm:revisions"))

clocks = Table(
    "sla_clocks",
    metadata,
    Column("clock_id", String(96), primary_key=True),
    Column("incident_id", String(32), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("policy", String(128), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("service", String(256), nullable=True),
    Column("target_seconds", Integer, nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("deadline", UtcDateTime(), nullable=False),
    Column("state", String(16), nullable=False, index=True),
    Column("stopped_at", UtcDateTime(), nullable=True),
    Column("agreement", String(8), nullable=False, default="sla"),
    Column("party", String(256), nullable=True),
    Column("schedule", String(128), nullable=False, default="24x7"),
    Column("paused_seconds", Float, nullable=False, default=0.0),
    Column("paused_at", UtcDateTime(), nullable=True),
    Column("warned", Integer, nullable=False, default=0),
    Column("pause_on", String(512), nullable=False, default="*"),
)

# Amounts are kept as the Decimal's exact text, summed in Python.
penalties = Table(
    "sla_penalties",
    metadata,
    Column("penalty_id", String(160), primary_key=True),
    Column("incident_id", String(32), nullable=True, index=True),
    Column("clock_id", String(160), nullable=False, index=True),
    Column("contract_id", String(128), nullable=False),
    Column("supplier", String(256), nullable=False),
    Column("service", String(256), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("amount", String(32), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("assessed_at", UtcDateTime(), nullable=False),
    Column("month", String(7), nullable=False, index=True),
    Column("reason", Text, nullable=False),
    Column("clause", String(16), nullable=False),
)

incidents = Table(
    "slm_incidents",
    metadata,
    Column("incident_id", String(32), primary_key=True),
    Column("service", String(256), nullable=True, index=True),
    Column("impact", Integer, nullable=False),
    Column("priority", Integer, nullable=False),
    Column("opened_at", UtcDateTime(), nullable=False, index=True),
    Column("acknowledged_at", UtcDateTime(), nullable=True),
    Column("resolved_at", UtcDateTime(), nullable=True),
)

outages = Table(
    "slm_outages",
    metadata,
    Column("incident_id", String(32), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("service", String(256), nullable=False, index=True),
    Column("impact", Integer, nullable=False),
    Column("start", UtcDateTime(), nullable=False),
    Column("end", UtcDateTime(), nullable=True),
)

months = Table(
    "slm_months",
    metadata,
    Column("month", String(7), primary_key=True),
    Column("assessed_at", UtcDateTime(), nullable=True),
)

_CLOCK_FIELDS = [f.name for f in fields(SlaClock) if f.name != "calendar"]
_PENALTY_FIELDS = [f.name for f in fields(Penalty)]
Calendars = Mapping[str, Schedule]


def _clock(row: Any, calendars: Calendars) -> SlaClock:
    clock = SlaClock(**{name: getattr(row, name) for name in _CLOCK_FIELDS})
    clock.calendar = calendars.get(clock.schedule, ALWAYS)
    return clock


# Statements read or written for every event, built once: SQLAlchemy finds one it has
# seen in its compiled cache without building and hashing it again.
_CLOCKS_OF_ONE = (select(clocks).where(clocks.c.incident_id == bindparam("b_incident"))
                  .order_by(clocks.c.started_at, clocks.c.clock_id))
_CLOCK = select(clocks).where(clocks.c.clock_id == bindparam("b_id"))
_ALL_CLOCKS = select(clocks)
_INCIDENT_IDS = select(incidents.c.incident_id)
_SAVE_CLOCK = update(clocks).where(clocks.c.clock_id == bindparam("b_id"))
_CHARGED = select(penalties.c.amount).where(penalties.c.contract_id == bindparam("b_contract"),
                                            penalties.c.month == bindparam("b_month"))


async def clocks_for(session: Session, incident_id: str, calendars: Calendars
                     ) -> list[SlaClock]:
    rows = await session.execute(_CLOCKS_OF_ONE, {"b_incident": incident_id})
    return [_clock(r, calendars) for r in rows]


async def clocks_of(session: Session, incident_ids: Iterable[str], calendars: Calendars
                    ) -> dict[str, list[SlaClock]]:
    """``clocks_for`` of many incidents in one read (an incident without clocks is absent)."""
    found: dict[str, list[SlaClock]] = {}
    rows = await select_in(session, _ALL_CLOCKS, clocks.c.incident_id, incident_ids)
    for row in sorted(rows, key=lambda r: (r.started_at, r.clock_id)):
        found.setdefault(row.incident_id, []).append(_clock(row, calendars))
    return found


async def open_clocks(session: Session, *, attention: str, at_risk_percent: int,
                      services: frozenset[str] | None, groups: frozenset[str],
                      limit: int, calendars: Calendars
                      ) -> tuple[list[tuple[SlaClock, str | None]], int]:
    """Clocks that need someone (see ``ListSlaClocks``), earliest deadline first, with
    their incident's service; and how many match over ``limit``. ``services`` None: every
    service; else those, and the OLA clocks of ``groups``."""
    where: list[ColumnElement[bool]] = [clocks.c.stopped_at.is_(None)]
    if attention == "breached":
        where.append(clocks.c.state == "breached")
    else:
        where.append(clocks.c.state == "running")
    if attention == "at_risk":
        where.append(clocks.c.warned >= at_risk_percent)
    if services is not None:
        where.append(or_(clocks.c.service.in_(sorted(services)),
                         and_(clocks.c.agreement == "ola", clocks.c.party.in_(sorted(groups)))))
    rows = await session.execute(select(clocks).where(*where)
                                 .order_by(clocks.c.deadline, clocks.c.clock_id).limit(limit))
    found = [(_clock(r, calendars), r.service) for r in rows]
    total = len(found) if len(found) < limit else \
        (await session.execute(select(func.count()).select_from(clocks).where(*where))).scalar_one()
    return found, int(total)


async def get_clock(session: Session, clock_id: str, calendars: Calendars
                    ) -> SlaClock | None:
    row = (await session.execute(_CLOCK, {"b_id": clock_id})).first()
    return None if row is None else _clock(row, calendars)


async def add_clocks(session: Session, new: list[SlaClock]) -> None:
    if new:
        await session.execute(insert(clocks), [
            {name: getattr(clock, name) for name in _CLOCK_FIELDS} for clock in new])


async def incidents_with_clocks(session: Session, incident_ids: set[str]) -> set[str]:
    """Which of ``incident_ids`` already have clocks."""
    rows = await select_in(session, _INCIDENT_IDS, incidents.c.incident_id, incident_ids)
    return {row.incident_id for row in rows}


def _changes(c: SlaClock) -> dict[str, Any]:
    """What changes over a clock's life, as ``_SAVE_CLOCK``'s parameters."""
    return {"b_id": c.clock_id, "state": c.state, "stopped_at": c.stopped_at,
            "deadline": c.deadline, "paused_seconds": c.paused_seconds,
            "paused_at": c.paused_at, "warned": c.warned, "policy": c.policy,
            "priority": c.priority, "target_seconds": c.target_seconds}


async def save_clock(session: Session, clock: SlaClock) -> None:
    """Write what changes over a clock's life."""
    await session.execute(_SAVE_CLOCK, _changes(clock))


async def save_clocks(session: Session, changed: Sequence[SlaClock]) -> None:
    """``save_clock`` for many clocks, in one statement."""
    if changed:
        await session.execute(_SAVE_CLOCK, [_changes(c) for c in changed])


async def add_penalty(session: Session, penalty: Penalty) -> bool:
    """Record ``penalty`` unless its id is known; False when it was."""
    known = await session.execute(select(penalties.c.penalty_id)
                                  .where(penalties.c.penalty_id == penalty.penalty_id))
    if known.first() is not None:
        return False
    await session.execute(insert(penalties).values(**{
        **asdict(penalty), "amount": str(penalty.amount),
        "month": penalty.assessed_at.strftime("%Y-%m")}))
    return True


def _penalty(r: Any) -> Penalty:
    return Penalty(**{name: getattr(r, name) for name in _PENALTY_FIELDS if name != "amount"},
                   amount=Decimal(r.amount))


async def penalties_for(session: Session, incident_id: str) -> list[Penalty]:
    rows = await session.execute(select(penalties).where(penalties.c.incident_id == incident_id)
                                 .order_by(penalties.c.assessed_at, penalties.c.penalty_id))
    return [_penalty(r) for r in rows]


async def penalties_in(session: Session, month: str) -> list[Penalty]:
    rows = await session.execute(select(penalties).where(penalties.c.month == month)
                                 .order_by(penalties.c.assessed_at, penalties.c.penalty_id))
    return [_penalty(r) for r in rows]


async def penalties_between(session: Session, start: datetime, end: datetime
                            ) -> list[Penalty]:
    rows = await session.execute(select(penalties).where(
        penalties.c.assessed_at >= start, penalties.c.assessed_at < end)
        .order_by(penalties.c.assessed_at, penalties.c.penalty_id))
    return [_penalty(r) for r in rows]


async def charged(session: Session, contract_id: str, month: str) -> Decimal:
    """What ``contract_id`` has cost in ``month`` so far, for its cap."""
    rows = await session.execute(_CHARGED, {"b_contract": contract_id, "b_month": month})
    return sum((Decimal(r.amount) for r in rows), Decimal(0))
