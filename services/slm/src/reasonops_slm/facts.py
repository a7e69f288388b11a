"""What SLM records of incidents for service metrics: times and outage intervals."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, func, insert, or_, select, update

from reasonops_runtime.store import Session

from .availability import IncidentTimes, Outage
from .store import incidents, months, outages


async def add_incidents(session: Session, rows: list[dict[str, object]]) -> None:
    """Record openings; only incidents of a known service count against its availability.

    (An empty parameter list would be an ``INSERT ... DEFAULT VALUES``, hence the checks.)
    """
    if rows:
        await session.execute(insert(incidents), rows)
    outage_rows = [{"incident_id": r["incident_id"], "seq": 1, "service": r["service"],
                    "impact": r["impact"], "start": r["opened_at"], "end": None}
                   for r in rows if r["service"] is not None]
    if outage_rows:
        await session.execute(insert(outages), outage_rows)


# Written for every acknowledgement and resolution, built once (see ``store``).
_ACKNOWLEDGED = update(incidents).where(incidents.c.incident_id == bindparam("b_id"),
                                        incidents.c.acknowledged_at.is_(None))
_RESOLVED = update(incidents).where(incidents.c.incident_id == bindparam("b_id"))
_OUTAGE_ENDED = update(outages).where(outages.c.incident_id == bindparam("b_id"),
                                      outages.c.end.is_(None))


async def acknowledged(session: Session, times: Sequence[tuple[str, datetime]]) -> None:
    """First acknowledgement times, (incident id, when), in one statement."""
    if times:
        await session.execute(_ACKNOWLEDGED,
                              [{"b_id": i, "acknowledged_at": at} for i, at in times])


async def resolved(session: Session, times: Sequence[tuple[str, datetime]]) -> None:
    """Resolution times, (incident id, when): the incidents' and their open outages' ends,
    in two statements."""
    if times:
        await session.execute(_RESOLVED, [{"b_id": i, "resolved_at": at} for i, at in times])
        await session.execute(_OUTAGE_ENDED, [{"b_id": i, "end": at} for i, at in times])


async def reopened(session: Session, incident_id: str, at: datetime) -> None:
    """A new outage interval from the reopen time (the first one stays as it ended)."""
    row = (await session.execute(select(incidents).where(
        incidents.c.incident_id == incident_id))).first()
    if row is None or row.service is None:
        return
    last = (await session.execute(select(func.max(outages.c.seq)).where(
        outages.c.incident_id == incident_id))).scalar() or 0
    open_now = (await session.execute(select(outages.c.seq).where(
        outages.c.incident_id == incident_id, outages.c.end.is_(None)))).first()
    if open_now is None:
        await session.execute(insert(outages).values(
            incident_id=incident_id, seq=last + 1, service=row.service, impact=row.impact,
            start=at, end=None))
    await session.execute(update(incidents).where(incidents.c.incident_id == incident_id)
                          .values(resolved_at=None))


async def outages_between(session: Session, start: datetime, end: datetime
                          ) -> list[Outage]:
    rows = await session.execute(select(outages).where(
        outages.c.start < end, or_(outages.c.end.is_(None), outages.c.end > start)))
    return [Outage(r.incident_id, r.service, r.impact, r.start, r.end) for r in rows]


async def incidents_between(session: Session, start: datetime, end: datetime
                            ) -> list[IncidentTimes]:
    rows = await session.execute(select(incidents).where(
        incidents.c.service.is_not(None),
        or_(incidents.c.opened_at.between(start, end),
            incidents.c.resolved_at.between(start, end))))
    return [IncidentTimes(r.incident_id, r.service, r.opened_at, r.acknowledged_at,
                          r.resolved_at) for r in rows]


async def known_months(session: Session, wanted: set[str]) -> set[str]:
    rows = await session.execute(select(months.c.month).where(months.c.month.in_(wanted)))
    return {r.month for r in rows}


async def add_months(session: Session, new: set[str]) -> None:
    if new:
        await session.execute(insert(months), [{"month": m} for m in sorted(new)])


async def services_seen(session: Session) -> set[str]:
    rows = await session.execute(select(incidents.c.service).distinct()
                                 .where(incidents.c.service.is_not(None)))
    return {r.service for r in rows}


async def breach_counts(session: Session, start: datetime, end: datetime
                        ) -> dict[str, int]:
    from .store import clocks

    rows = await session.execute(
        select(clocks.c.service, func.count()).where(
            clocks.c.state == "breached", clocks.c.agreement == "sla",
            clocks.c.deadline >= start, clocks.c.deadline < end,
            clocks.c.service.is_not(None)).group_by(clocks.c.service))
    return {service: count for service, count in rows.all()}
