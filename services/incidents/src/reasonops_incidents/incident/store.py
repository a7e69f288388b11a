"""The incident service's incident and timeline tables and their repository (what
correlation remembers of alerts and groups is ``alert_store``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Index,
    Integer,
    String,
    Table,
    Text,
    bindparam,
    insert,
    select,
    update,
)

from reasonops_runtime import UtcDateTime
from reasonops_runtime.store import Session, select_in

from ..store import metadata
from .alert_store import alerts
from .domain import Incident, State

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
    Column("rule", String(64), nullable=True),
    Column("group_key", String(512), nullable=True),
    Column("assignment_group", String(128), nullable=True, index=True),
    Column("assignment_source", String(16), nullable=True),
    Column("major", Boolean, nullable=False, default=False),
    Column("escalation_level", Integer, nullable=False, default=1),
    Column("firing_alerts", Integer, nullable=False, default=1),
    Column("last_alert_at", UtcDateTime(), nullable=True),
    Column("last_fingerprint", String(128), nullable=True),
    Column("probable_cause", JSON, nullable=True),
    Column("problem_id", String(32), nullable=True, index=True),
    Column("held_from", String(16), nullable=True),
    Index("ix_incidents_service_state", "service", "state"),
    Index("ix_incidents_group_opened", "group_key", "opened_at"),
    Index("ix_incidents_opened", "opened_at"),
    Index("ix_incidents_priority", "priority"),
)

timeline = Table(
    "timeline",
    metadata,
    Column("entry_id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", String(32), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("detail", Text, nullable=False),
    Column("data", JSON, nullable=False),
    Index("ix_timeline_incident", "incident_id", "entry_id"),
)

_INCIDENT_FIELDS = [f.name for f in fields(Incident)]
# What can change after an incident is opened; updates write only these.
_MUTABLE_FIELDS = ("state", "alert_count", "updated_at", "acknowledged_at", "resolved_at",
                   "closed_at", "note", "impact", "urgency", "priority", "priority_reason",
                   "assignment_group", "assignment_source", "major", "escalation_level",
                   "firing_alerts", "last_alert_at", "last_fingerprint", "probable_cause",
                   "problem_id", "held_from", "resource")


def _to_row(incident: Incident, names: Iterable[str] = _INCIDENT_FIELDS) -> dict[str, Any]:
    # Shallow on purpose: dataclasses.asdict deep-copies the label dicts, which was the
    # largest cost of a batch.
    row = {name: getattr(incident, name) for name in names}
    if "state" in row:
        row["state"] = incident.state.value
    return row


def _from_row(row: Any) -> Incident:
    values = row._mapping
    return _from_row_values({name: values[name] for name in _INCIDENT_FIELDS})


def _from_row_values(values: dict[str, Any]) -> Incident:
    if values["firing_alerts"] is None:  # rows written before correlation existed
        values["firing_alerts"] = 1 if values["state"] in ("new", "acknowledged") else 0
    values["major"] = bool(values["major"])
    values["escalation_level"] = values["escalation_level"] or 1
    values["state"] = State(values["state"])
    return Incident(**values)


# Intake never writes labels or annotations back (they are not mutable) and never needs
# them for incidents it did not open, so it does not read them: the largest columns.
_WORKING = select(*[c for c in incidents.c if c.name not in ("labels", "annotations")])
_WORKING_FIELDS = [name for name in _INCIDENT_FIELDS if name not in ("labels", "annotations")]


def _from_working_row(row: Any) -> Incident:
    found = row._mapping
    values = {name: found[name] for name in _WORKING_FIELDS}
    values["labels"], values["annotations"] = {}, {}
    return _from_row_values(values)


async def load_incidents(session: Session, ids: Iterable[str]) -> dict[str, Incident]:
    """The incidents a batch touches, locked, without labels and annotations (above)."""
    rows = await select_in(session, _WORKING, incidents.c.incident_id, ids, lock=True)
    return {r.incident_id: _from_working_row(r) for r in rows}


async def open_incidents_of(session: Session, services: Iterable[str]) -> list[Incident]:
    """Open incidents of these services, locked: an alert of the batch may join one."""
    rows = await select_in(session, _OPEN_WORKING, incidents.c.service, services, lock=True)
    return [_from_working_row(r) for r in rows]


async def bump_counts(session: Session, bumps: Mapping[str, int],
                      last_alert: Mapping[str, datetime], at: datetime) -> None:
    """Add repeats of firing alerts without reading the incidents again."""
    if bumps:
        await session.execute(
            update(incidents).where(incidents.c.incident_id == bindparam("b_id"))
            .values(alert_count=incidents.c.alert_count + bindparam("b_n"),
                    last_alert_at=bindparam("b_at"), updated_at=at),
            [{"b_id": i, "b_n": n, "b_at": last_alert[i]} for i, n in bumps.items()])


# What every command and event reads or writes, built once: SQLAlchemy finds a statement
# it has seen in its compiled cache without building and hashing it again.
_INCIDENT = select(incidents).where(incidents.c.incident_id == bindparam("b_id"))
_INCIDENT_LOCKED = _INCIDENT.with_for_update()
_CREATE = insert(incidents)
_CHANGE = update(incidents).where(incidents.c.incident_id == bindparam("b_id"))
_ADD_TIMELINE = insert(timeline)
_TIMELINE = (select(timeline).where(timeline.c.incident_id == bindparam("b_id"))
             .order_by(timeline.c.entry_id))
_OPEN_WORKING = _WORKING.where(incidents.c.state.in_(("new", "acknowledged", "on_hold")))
_RECURRING = (select(incidents.c.group_key, incidents.c.incident_id)
              .where(incidents.c.opened_at >= bindparam("b_since")).order_by(incidents.c.seq))
_RESOURCES = (select(alerts.c.resource).distinct()
              .where(alerts.c.incident_id == bindparam("b_id"))
              .where(alerts.c.resource.is_not(None)).order_by(alerts.c.resource)
              .limit(bindparam("b_limit")))


async def get_incident(session: Session, incident_id: str, *, lock: bool = False
                       ) -> Incident | None:
    row = (await session.execute(_INCIDENT_LOCKED if lock else _INCIDENT,
                                 {"b_id": incident_id})).first()
    return None if row is None else _from_row(row)


async def save(session: Session, *, created: Sequence[Incident],
               changed: Sequence[Incident]) -> None:
    """Write new and changed incidents."""
    if created:
        await session.execute(_CREATE, [
            {**_to_row(i), "seq": int(i.incident_id[3:])} for i in created])
    if changed:
        await session.execute(
            _CHANGE, [{**_to_row(i, _MUTABLE_FIELDS), "b_id": i.incident_id} for i in changed])


async def add_timeline(session: Session, entries: Sequence[Mapping[str, Any]]) -> None:
    if entries:
        await session.execute(_ADD_TIMELINE, list(entries))


async def timeline_of(session: Session, incident_id: str) -> list[Any]:
    return list(await session.execute(_TIMELINE, {"b_id": incident_id}))


async def recurrences(session: Session, keys: Iterable[str], since: datetime
                      ) -> dict[str, list[str]]:
    """Incidents per correlation group opened since ``since`` (indexed)."""
    rows = await select_in(session, _RECURRING, incidents.c.group_key, keys,
                           parameters={"b_since": since})
    found: dict[str, list[str]] = {}
    for r in rows:
        found.setdefault(r.group_key, []).append(r.incident_id)
    return found


async def link_problem(session: Session, incident_ids: Sequence[str], problem_id: str
                       ) -> None:
    if incident_ids:
        await session.execute(update(incidents).where(incidents.c.incident_id.in_(incident_ids))
                              .values(problem_id=problem_id))


async def alerts_of_silence(session: Session, silence_id: str, limit: int = 100
                            ) -> list[Any]:
    return list(await session.execute(
        select(alerts).where(alerts.c.silenced_by == silence_id)
        .order_by(alerts.c.last_seen_at.desc()).limit(limit)))


async def resources_of(session: Session, incident_id: str, limit: int = 200) -> list[str]:
    """The resources the incident's alerts are on, each once, by name."""
    rows = await session.execute(_RESOURCES, {"b_id": incident_id, "b_limit": limit})
    return [r.resource for r in rows]
