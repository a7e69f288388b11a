"""The incident service's tables and repository."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from reasonops_contracts import incident_number
from reasonops_runtime import UtcDateTime
from reasonops_runtime.store import select_in

from .domain import Incident, State

metadata = MetaData()

incidents = Table(
    "incidents",
    metadata,
    Column("incident_id", String(32), primary_key=True),
    Column("seq", Integer, nullable=False, unique=True),
    Column("title", String(1024), nullable=False),
    Column("state", String(16), nullable=False, index=True),
    Column("fingerprint", String(128), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("service", String(256), nullable=True, index=True),
    Column("resource", String(512), nullable=True),
    Column("impact", Integer, nullable=False),
    Column("urgency", Integer, nullable=False),
    Column("priority", Integer, nullable=False),
    Column("priority_reason", String(512), nullable=False),
    Column("alert_count", Integer, nullable=False),
    Column("labels", JSON, nullable=False),
    Column("annotations", JSON, nullable=False),
    Column("first_alert_at", UtcDateTime(), nullable=True),
    Column("opened_at", UtcDateTime(), nullable=False),
    Column("acknowledged_at", UtcDateTime(), nullable=True),
    Column("resolved_at", UtcDateTime(), nullable=True),
    Column("closed_at", UtcDateTime(), nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("correlation_id", String(64), nullable=False),
    Column("note", Text, nullable=True),
)

# The last incident each alert fingerprint opened; a repeat or a resolve finds it here.
alerts = Table(
    "alerts",
    metadata,
    Column("fingerprint", String(128), primary_key=True),
    Column("incident_id", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("last_seen_at", UtcDateTime(), nullable=False),
    Index("ix_alerts_incident", "incident_id"),
)

counters = Table(
    "counters",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Integer, nullable=False),
)

_INCIDENT_FIELDS = [f.name for f in fields(Incident)]
# What can change after an incident is opened; updates write only these.
_MUTABLE_FIELDS = ("state", "alert_count", "updated_at", "acknowledged_at", "resolved_at",
                   "closed_at", "note")


def _to_row(incident: Incident, names: Iterable[str] = _INCIDENT_FIELDS) -> dict[str, Any]:
    # Shallow on purpose: dataclasses.asdict deep-copies the label dicts, which was the
    # largest cost of a batch.
    row = {name: getattr(incident, name) for name in names}
    if "state" in row:
        row["state"] = incident.state.value
    return row


def _from_row(row: Any) -> Incident:
    values = {name: getattr(row, name) for name in _INCIDENT_FIELDS}
    values["state"] = State(values["state"])
    return Incident(**values)


class IncidentNumbers:
    """Hands out INC numbers inside one transaction; ``save`` stores the high-water mark."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._loaded: int | None = None
        self._value = 0

    async def next(self) -> str:
        if self._loaded is None:
            current = (await self.session.execute(
                select(counters.c.value).where(counters.c.name == "incident"))
            ).scalar_one_or_none()
            self._loaded = -1 if current is None else current
            self._value = current or 0
        self._value += 1
        return incident_number(self._value)

    async def save(self) -> None:
        if self._loaded is None or self._value == self._loaded:
            return
        if self._loaded == -1:
            await self.session.execute(insert(counters).values(name="incident", value=self._value))
        else:
            await self.session.execute(update(counters).where(counters.c.name == "incident")
                                       .values(value=self._value))


async def load_alerts(session: AsyncSession, fingerprints: Iterable[str]) -> dict[str, str]:
    """fingerprint -> incident id, for the fingerprints we have seen before."""
    rows = await select_in(session, select(alerts.c.fingerprint, alerts.c.incident_id),
                           alerts.c.fingerprint, fingerprints)
    return {r.fingerprint: r.incident_id for r in rows}


async def load_states(session: AsyncSession, ids: Iterable[str]) -> dict[str, State]:
    rows = await select_in(session, select(incidents.c.incident_id, incidents.c.state),
                           incidents.c.incident_id, ids)
    return {r.incident_id: State(r.state) for r in rows}


async def bump_counts(session: AsyncSession, bumps: Mapping[str, int], at: datetime) -> None:
    """Add repeats of firing alerts without reading the incidents."""
    if bumps:
        await session.execute(
            update(incidents).where(incidents.c.incident_id == bindparam("b_id"))
            .values(alert_count=incidents.c.alert_count + bindparam("b_n"), updated_at=at),
            [{"b_id": incident_id, "b_n": n} for incident_id, n in bumps.items()])


async def get_incident(session: AsyncSession, incident_id: str) -> Incident | None:
    row = (await session.execute(
        select(incidents).where(incidents.c.incident_id == incident_id))).first()
    return None if row is None else _from_row(row)


async def save(session: AsyncSession, *, created: list[Incident], changed: list[Incident],
               alert_rows: dict[str, tuple[str, str, datetime]], known_alerts: set[str]) -> None:
    """Write a batch: new incidents, changed incidents, and the fingerprint index."""
    if created:
        await session.execute(insert(incidents), [
            {**_to_row(i), "seq": int(i.incident_id[3:])} for i in created])
    if changed:
        await session.execute(
            update(incidents).where(incidents.c.incident_id == bindparam("b_id")),
            [{**_to_row(i, _MUTABLE_FIELDS), "b_id": i.incident_id} for i in changed])
    new = [{"fingerprint": fp, "incident_id": v[0], "status": v[1], "last_seen_at": v[2]}
           for fp, v in alert_rows.items() if fp not in known_alerts]
    old = [{"b_fp": fp, "incident_id": v[0], "status": v[1], "last_seen_at": v[2]}
           for fp, v in alert_rows.items() if fp in known_alerts]
    if new:
        await session.execute(insert(alerts), new)
    if old:
        await session.execute(update(alerts).where(alerts.c.fingerprint == bindparam("b_fp")),
                              old)


async def list_incidents(session: AsyncSession, *, states: Sequence[str] | None,
                         service: str | None, limit: int) -> list[Incident]:
    query = select(incidents).order_by(incidents.c.seq.desc()).limit(limit)
    if states:
        query = query.where(incidents.c.state.in_(states))
    if service:
        query = query.where(incidents.c.service == service)
    return [_from_row(r) for r in await session.execute(query)]
