"""What correlation remembers, with its tables: each alert fingerprint's record (its
incident, group, state changes for flapping, the silence that held it) and each
correlation group (its current incident, or the alerts waiting for ``create_on``)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Index,
    String,
    Table,
    Text,
    bindparam,
    insert,
    select,
    type_coerce,
    update,
)

from reasonops_runtime import UtcDateTime
from reasonops_runtime.store import Session, select_in

from ..store import metadata
from .correlation import AlertRecord, Group, Pending

# What we remember of each alert fingerprint: its incident (none while pending or
# silenced), its group, its state changes for flapping, and the silence that held it.
alerts = Table(
    "alerts",
    metadata,
    Column("fingerprint", String(128), primary_key=True),
    Column("incident_id", String(32), nullable=True),
    Column("status", String(16), nullable=False),
    Column("last_seen_at", UtcDateTime(), nullable=False),
    Column("group_key", String(512), nullable=True),
    Column("changes", JSON, nullable=False, default=list),
    Column("flapping", Boolean, nullable=False, default=False),
    Column("silenced_by", String(32), nullable=True, index=True),
    Column("name", String(256), nullable=True),
    Column("service", String(256), nullable=True),
    Column("resource", String(512), nullable=True),
    Index("ix_alerts_incident", "incident_id"),
)

# Correlation groups: the group's current incident, or the alerts waiting for create_on.
groups = Table(
    "correlation_groups",
    metadata,
    Column("group_key", String(512), primary_key=True),
    Column("rule", String(64), nullable=False),
    Column("incident_id", String(32), nullable=True),
    Column("pending", JSON, nullable=False),
)


# Read by position, the JSON lists as they come (the text on SQLite, where nearly every
# one is ``[]``; decoded by the driver on PostgreSQL): a batch reads a row per alert.
_RECORDS = select(alerts.c.fingerprint, alerts.c.status, alerts.c.last_seen_at,
                  alerts.c.incident_id, alerts.c.group_key,
                  type_coerce(alerts.c.changes, Text), alerts.c.flapping,
                  alerts.c.silenced_by, alerts.c.name, alerts.c.service, alerts.c.resource)
_GROUPS = select(groups.c.group_key, groups.c.rule, groups.c.incident_id,
                 type_coerce(groups.c.pending, Text))


def _json_list(value: Any) -> list[Any]:
    if isinstance(value, str):
        return [] if value == "[]" else list(json.loads(value) or ())
    return list(value or ())


async def load_records(session: Session, fingerprints: Iterable[str]
                       ) -> dict[str, AlertRecord]:
    rows = await select_in(session, _RECORDS, alerts.c.fingerprint, fingerprints, lock=True)
    return {fingerprint: AlertRecord(
        fingerprint=fingerprint, status=status, last_seen_at=last_seen_at,
        incident_id=incident_id, group_key=group_key,
        changes=[datetime.fromisoformat(c) for c in _json_list(changes)],
        flapping=flapping, silenced_by=silenced_by, name=name, service=service,
        resource=resource)
        for (fingerprint, status, last_seen_at, incident_id, group_key, changes, flapping,
             silenced_by, name, service, resource) in cast("list[tuple[Any, ...]]", rows)}


def _record_row(r: AlertRecord) -> dict[str, Any]:
    return {"incident_id": r.incident_id, "status": r.status, "last_seen_at": r.last_seen_at,
            "group_key": r.group_key, "changes": [c.isoformat() for c in r.changes],
            "flapping": r.flapping, "silenced_by": r.silenced_by, "name": r.name,
            "service": r.service, "resource": r.resource}


async def save_records(session: Session, new: Iterable[AlertRecord],
                       changed: Iterable[AlertRecord]) -> None:
    rows = [{"fingerprint": r.fingerprint, **_record_row(r)} for r in new]
    if rows:
        await session.execute(insert(alerts), rows)
    rows = [{"b_fp": r.fingerprint, **_record_row(r)} for r in changed]
    if rows:
        await session.execute(update(alerts).where(alerts.c.fingerprint == bindparam("b_fp")),
                              rows)


async def load_groups(session: Session, keys: Iterable[str]) -> dict[str, Group]:
    rows = await select_in(session, _GROUPS, groups.c.group_key, keys, lock=True)
    return {key: Group(
        key=key, rule=rule, incident_id=incident_id,
        pending={p[0]: Pending(datetime.fromisoformat(p[1]), *p[2:])
                 for p in _json_list(pending)})
        for key, rule, incident_id, pending in cast("list[tuple[Any, ...]]", rows)}


def _group_row(g: Group) -> dict[str, Any]:
    return {"rule": g.rule, "incident_id": g.incident_id,
            "pending": [[fp, p.at.isoformat(), *p[1:]] for fp, p in g.pending.items()]}


async def save_groups(session: Session, new: Iterable[Group],
                      changed: Iterable[Group]) -> None:
    rows = [{"group_key": g.key, **_group_row(g)} for g in new]
    if rows:
        await session.execute(insert(groups), rows)
    rows = [{"b_key": g.key, **_group_row(g)} for g in changed]
    if rows:
        await session.execute(update(groups).where(groups.c.group_key == bindparam("b_key")),
                              rows)
