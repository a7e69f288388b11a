"""The service-level agent's read model: running clocks, the incidents they belong to
(group, acknowledged, resolved) and how long met clocks took, per group and kind."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)

from reasonops_contracts.incidents import (
    IncidentAcknowledged,
    IncidentAssigned,
    IncidentOpened,
    IncidentReopened,
    IncidentResolved,
)
from reasonops_contracts.slm import SlaStarted
from reasonops_runtime import UtcDateTime
from reasonops_runtime.migrations import schema
from reasonops_runtime.store import Session

from .domain import Answered, Watched, working

metadata = MetaData(info=schema("agent-slm", "reasonops_agent_slm:revisions"))

PACE_SAMPLES = 200
"""The latest met clocks of a group and kind its pace is measured on."""
ANSWERED_SAMPLES = 1000
"""The latest answered incidents of a group its response clocks are compared with."""

clocks = Table(
    "slm_agent_clocks",
    metadata,
    Column("clock_id", String(64), primary_key=True),
    Column("incident_id", String(32), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("agreement", String(8), nullable=False),
    Column("party", String(128), nullable=True),
    Column("priority", Integer, nullable=False),
    Column("service", String(128), nullable=True),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("deadline", UtcDateTime(), nullable=False),
    Column("target_seconds", Integer, nullable=False),
    Column("paused", Boolean, nullable=False, default=False),
    Column("forecast", Boolean, nullable=False, default=False),
    Column("cause", Text, nullable=False),
)

incidents = Table(
    "slm_agent_incidents",
    metadata,
    Column("incident_id", String(32), primary_key=True),
    Column("assignment_group", String(128), nullable=True),
    Column("opened_at", UtcDateTime(), nullable=False),
    Column("acknowledged_at", UtcDateTime(), nullable=True),
    Column("resolved_at", UtcDateTime(), nullable=True),
    Column("load", Integer, nullable=True),
    # A group's open incidents and its latest answered, without reading all it ever had.
    Index("ix_slm_agent_incidents_group_resolved", "assignment_group", "resolved_at"),
    Index("ix_slm_agent_incidents_group_acknowledged", "assignment_group", "acknowledged_at"),
)

met = Table(
    "slm_agent_met",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("assignment_group", String(128), nullable=True),
    Column("kind", String(16), nullable=False),
    Column("elapsed_seconds", Float, nullable=False),
    Column("in_hours", Boolean, nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    # The latest met clocks of a kind (a group's, or everyone's).
    Index("ix_slm_agent_met_kind_at", "kind", "at"),
    Index("ix_slm_agent_met_kind_group_at", "kind", "assignment_group", "at"),
)


async def add_clocks(session: Session, started: Sequence[tuple[SlaStarted, str]]) -> None:
    """(clock started, the envelope that carried it, for the trace of a later decision)."""
    ids = {e.clock_id for e, _ in started}
    known = set((await session.execute(select(clocks.c.clock_id).where(
        clocks.c.clock_id.in_(ids)))).scalars())
    rows = [dict(clock_id=e.clock_id, incident_id=e.incident_id, kind=e.kind,
                 agreement=e.agreement, party=e.party, priority=e.priority, service=e.service,
                 started_at=e.started_at, deadline=e.deadline, target_seconds=e.target_seconds,
                 paused=False, forecast=False, cause=cause)
            for e, cause in started if e.clock_id not in known]
    if rows:
        await session.execute(insert(clocks), rows)


async def pause(session: Session, clock_id: str, paused: bool,
                deadline: datetime | None = None) -> None:
    values: dict[str, Any] = {"paused": paused}
    if deadline is not None:
        values["deadline"] = deadline
    await session.execute(update(clocks).where(clocks.c.clock_id == clock_id).values(**values))


async def stop(session: Session, ended: Sequence[tuple[str, float | None]]
               ) -> set[tuple[str | None, str]]:
    """Clocks met (with the seconds they took) or breached (None): no longer watched; a
    met one adds to its group's pace. Returns the (group, kind) paces that moved."""
    if not ended:
        return set()
    ids = [clock_id for clock_id, _ in ended]
    rows = (await session.execute(
        select(clocks.c.clock_id, clocks.c.kind, clocks.c.started_at,
               incidents.c.assignment_group)
        .select_from(clocks.outerjoin(incidents, clocks.c.incident_id == incidents.c.incident_id))
        .where(clocks.c.clock_id.in_(ids)))).all()
    took = dict(ended)
    samples = [dict(assignment_group=r.assignment_group, kind=r.kind,
                    elapsed_seconds=took[r.clock_id], in_hours=working(r.started_at),
                    at=r.started_at) for r in rows if took[r.clock_id] is not None]
    if samples:
        await session.execute(insert(met), samples)
    await session.execute(delete(clocks).where(clocks.c.clock_id.in_(ids)))
    return {(s["assignment_group"], s["kind"]) for s in samples}


IncidentEvent = IncidentOpened | IncidentAssigned | IncidentAcknowledged | IncidentResolved \
    | IncidentReopened


async def incident_events(session: Session, events: Sequence[IncidentEvent]
                          ) -> set[str]:
    """Apply a run of incident events in order, in three statements whatever their
    number: the incidents they name are read, changed in memory, written back. A new
    incident, or one that comes to another group, takes that group's load: its incidents
    open then. Returns the groups one was acknowledged in (their answers moved)."""
    ids = {e.incident_id for e in events}
    rows = {r.incident_id: dict(r._mapping) for r in await session.execute(
        select(incidents).where(incidents.c.incident_id.in_(ids)))}
    groups = {r["assignment_group"] for r in rows.values()} | {
        e.assignment_group for e in events
        if isinstance(e, IncidentOpened | IncidentAssigned)}
    open_now = await open_by_group(session, {g for g in groups if g})
    fresh: dict[str, dict[str, Any]] = {}
    changed: set[str] = set()
    answered: set[str] = set()

    def count(group: str | None, by: int) -> None:
        if group:
            open_now[group] = open_now.get(group, 0) + by

    for e in events:
        row = rows.get(e.incident_id)
        if isinstance(e, IncidentOpened):
            if row is None:
                row = rows[e.incident_id] = fresh[e.incident_id] = dict(
                    incident_id=e.incident_id, assignment_group=e.assignment_group,
                    opened_at=e.opened_at, acknowledged_at=None, resolved_at=None,
                    load=open_now.get(e.assignment_group, 0) if e.assignment_group else None)
                count(e.assignment_group, 1)
            continue
        if row is None:  # an incident opened before this agent watched
            continue
        if isinstance(e, IncidentAssigned):
            if row["assignment_group"] == e.assignment_group:
                continue
            if row["resolved_at"] is None:
                count(row["assignment_group"], -1)
                count(e.assignment_group, 1)
            row["load"] = max(0, open_now.get(e.assignment_group, 0) - 1) \
                if row["resolved_at"] is None else open_now.get(e.assignment_group, 0)
            row["assignment_group"] = e.assignment_group
        elif isinstance(e, IncidentAcknowledged):
            row["acknowledged_at"] = e.acknowledged_at
            if row["assignment_group"]:
                answered.add(row["assignment_group"])
        elif isinstance(e, IncidentResolved):
            if row["resolved_at"] is None:
                count(row["assignment_group"], -1)
            row["resolved_at"] = e.resolved_at
        elif row["resolved_at"] is not None:  # reopened
            count(row["assignment_group"], 1)
            row["resolved_at"] = None
        changed.add(e.incident_id)
    if fresh:
        await session.execute(insert(incidents), list(fresh.values()))
    kept = [rows[i] for i in changed if i not in fresh]
    if kept:
        await session.execute(
            update(incidents).where(incidents.c.incident_id == bindparam("_id"))
            .values(assignment_group=bindparam("_group"), load=bindparam("_load"),
                    acknowledged_at=bindparam("_ack"), resolved_at=bindparam("_resolved"))
            .execution_options(synchronize_session=False),
            [{"_id": r["incident_id"], "_group": r["assignment_group"], "_load": r["load"],
              "_ack": r["acknowledged_at"], "_resolved": r["resolved_at"]} for r in kept])
    return answered


async def open_by_group(session: Session, groups: set[str]) -> dict[str, int]:
    """How many of each group's incidents are open (not resolved)."""
    if not groups:
        return {}
    rows = await session.execute(
        select(incidents.c.assignment_group, func.count()).where(
            incidents.c.assignment_group.in_(groups), incidents.c.resolved_at.is_(None))
        .group_by(incidents.c.assignment_group))
    return {g: n for g, n in rows}


async def watched(session: Session, limit: int,
                  ids: Sequence[str] | None = None) -> list[Watched]:
    """Running clocks (of ``ids``, when given) not paused and not yet forecast to breach,
    nearest deadline first."""
    scope = [clocks.c.paused.is_(False), clocks.c.forecast.is_(False)]
    if ids is not None:
        scope.append(clocks.c.clock_id.in_(ids))
    rows = await session.execute(
        select(clocks, incidents.c.assignment_group, incidents.c.acknowledged_at,
               incidents.c.opened_at, incidents.c.load)
        .select_from(clocks.outerjoin(incidents, clocks.c.incident_id == incidents.c.incident_id))
        .where(*scope).order_by(clocks.c.deadline).limit(limit))
    return [Watched(clock_id=r.clock_id, incident_id=r.incident_id, kind=r.kind,
                    agreement=r.agreement, party=r.party, priority=r.priority,
                    service=r.service, started_at=r.started_at, deadline=r.deadline,
                    target_seconds=r.target_seconds, group=r.assignment_group,
                    acknowledged=r.acknowledged_at is not None, opened_at=r.opened_at,
                    load=r.load)
            for r in rows]


async def met_latest(session: Session, kind: str, group: str | None = None
                     ) -> tuple[tuple[float, bool], ...]:
    """(seconds taken, in working hours) of the latest met clocks of ``kind``: the
    group's, or every group's when ``group`` is None."""
    scope = [met.c.kind == kind] if group is None else [met.c.kind == kind,
                                                        met.c.assignment_group == group]
    rows = await session.execute(select(met.c.elapsed_seconds, met.c.in_hours).where(*scope)
                                 .order_by(met.c.at.desc()).limit(PACE_SAMPLES))
    return tuple((r.elapsed_seconds, r.in_hours) for r in rows)


async def answered(session: Session, group: str) -> tuple[Answered, ...]:
    """The group's latest answered incidents: their load, whether they opened in working
    hours, how long their answer took."""
    rows = await session.execute(
        select(incidents.c.opened_at, incidents.c.acknowledged_at, incidents.c.load)
        .where(incidents.c.assignment_group == group,
               incidents.c.acknowledged_at.is_not(None), incidents.c.load.is_not(None))
        .order_by(incidents.c.acknowledged_at.desc()).limit(ANSWERED_SAMPLES))
    return tuple(Answered(r.load, working(r.opened_at),
                          (r.acknowledged_at - r.opened_at).total_seconds()) for r in rows)


async def waiting(session: Session, group: str, kind: str) -> list[datetime]:
    """When each of the group's open incidents was opened that is not yet acknowledged
    (for response clocks) or resolved (for resolution clocks), oldest first."""
    conditions = [incidents.c.assignment_group == group, incidents.c.resolved_at.is_(None)]
    if kind == "response":
        conditions.append(incidents.c.acknowledged_at.is_(None))
    rows = await session.execute(select(incidents.c.opened_at).where(*conditions)
                                 .order_by(incidents.c.opened_at))
    return list(rows.scalars())


async def forecast_made(session: Session, clock_id: str) -> None:
    await session.execute(update(clocks).where(clocks.c.clock_id == clock_id)
                          .values(forecast=True))


async def cause_of(session: Session, clock_id: str) -> str | None:
    return (await session.execute(select(clocks.c.cause).where(
        clocks.c.clock_id == clock_id))).scalar_one_or_none()
