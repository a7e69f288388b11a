"""Ingest's own tables: integrations (keys as hashes), PagerDuty alert state, heartbeats."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    insert,
    or_,
    select,
    update,
)

from reasonops_contracts.ingest import LabelMapping
from reasonops_runtime import UtcDateTime
from reasonops_runtime.migrations import schema
from reasonops_runtime.store import Session

from .integrations import Integration

metadata = MetaData(info=schema("ingest", "reasonops_ingest:revisions"))

integrations = Table(
    "ingest_integrations",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("key_prefix", String(16), nullable=False),
    Column("previous_key_hash", String(64), nullable=True, index=True),
    Column("previous_key_valid_until", UtcDateTime(), nullable=True),
    Column("formats", JSON, nullable=False),
    Column("default_service", String(256), nullable=True),
    Column("default_team", String(256), nullable=True),
    Column("label_mapping", JSON, nullable=False),
    Column("static_labels", JSON, nullable=False),
    Column("rate_limit_per_second", Float, nullable=True),
    Column("burst", Integer, nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("rotated_at", UtcDateTime(), nullable=True),
    Column("revoked_at", UtcDateTime(), nullable=True),
)

# One row per (integration, dedup_key): which alert generation the key points at now.
pagerduty_alerts = Table(
    "ingest_pagerduty_alerts",
    metadata,
    Column("integration", String(64), primary_key=True),
    Column("dedup_key", String(255), primary_key=True),
    Column("generation", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("last_request", String(64), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

heartbeats = Table(
    "ingest_heartbeats",
    metadata,
    Column("integration", String(64), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("interval_seconds", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("last_seen_at", UtcDateTime(), nullable=False),
    Column("due_at", UtcDateTime(), nullable=False),
    Column("fingerprint", String(32), nullable=False),
)


def _integration(row: Any) -> Integration:
    return Integration(
        name=row.name, key_hash=row.key_hash, key_prefix=row.key_prefix,
        created_at=row.created_at, formats=tuple(row.formats),
        default_service=row.default_service, default_team=row.default_team,
        label_mapping=LabelMapping.model_validate(row.label_mapping),
        static_labels=dict(row.static_labels), rate_limit_per_second=row.rate_limit_per_second,
        burst=row.burst, rotated_at=row.rotated_at, previous_key_hash=row.previous_key_hash,
        previous_key_valid_until=row.previous_key_valid_until, revoked_at=row.revoked_at)


async def integration_named(session: Session, name: str) -> Integration | None:
    row = (await session.execute(select(integrations).where(integrations.c.name == name))
           ).first()
    return _integration(row) if row else None


async def integration_by_key_hash(session: Session, key_hash: str) -> Integration | None:
    row = (await session.execute(select(integrations).where(or_(
        integrations.c.key_hash == key_hash, integrations.c.previous_key_hash == key_hash)))
    ).first()
    return _integration(row) if row else None


async def all_integrations(session: Session, *, include_revoked: bool
                           ) -> list[Integration]:
    query = select(integrations).order_by(integrations.c.name)
    if not include_revoked:
        query = query.where(integrations.c.revoked_at.is_(None))
    return [_integration(row) for row in (await session.execute(query)).all()]


async def add_integration(session: Session, integration: Integration) -> None:
    await session.execute(insert(integrations).values(
        name=integration.name, key_hash=integration.key_hash,
        key_prefix=integration.key_prefix, formats=list(integration.formats),
        default_service=integration.default_service, default_team=integration.default_team,
        label_mapping=integration.label_mapping.model_dump(),
        static_labels=integration.static_labels,
        rate_limit_per_second=integration.rate_limit_per_second, burst=integration.burst,
        created_at=integration.created_at))


async def update_integration(session: Session, name: str, **values: object) -> None:
    await session.execute(update(integrations).where(integrations.c.name == name)
                          .values(**values))


async def pagerduty_alert(session: Session, integration: str, dedup_key: str
                          ) -> Any | None:
    return (await session.execute(select(pagerduty_alerts).where(
        pagerduty_alerts.c.integration == integration,
        pagerduty_alerts.c.dedup_key == dedup_key).with_for_update())).first()


async def save_pagerduty_alert(session: Session, *, exists: bool, integration: str,
                               dedup_key: str, generation: int, status: str, request: str,
                               now: datetime) -> None:
    values = {"generation": generation, "status": status, "last_request": request,
              "updated_at": now}
    if exists:
        await session.execute(update(pagerduty_alerts).where(
            pagerduty_alerts.c.integration == integration,
            pagerduty_alerts.c.dedup_key == dedup_key).values(**values))
    else:
        await session.execute(insert(pagerduty_alerts).values(
            integration=integration, dedup_key=dedup_key, **values))


async def heartbeat(session: Session, integration: str, name: str) -> Any | None:
    return (await session.execute(select(heartbeats).where(
        heartbeats.c.integration == integration, heartbeats.c.name == name)
        .with_for_update())).first()


async def save_heartbeat(session: Session, *, exists: bool, integration: str, name: str,
                         **values: object) -> None:
    if exists:
        await session.execute(update(heartbeats).where(
            heartbeats.c.integration == integration, heartbeats.c.name == name).values(**values))
    else:
        await session.execute(insert(heartbeats).values(integration=integration, name=name,
                                                        **values))


async def all_heartbeats(session: Session, integration: str | None) -> list[Any]:
    query = select(heartbeats).order_by(heartbeats.c.integration, heartbeats.c.name)
    if integration is not None:
        query = query.where(heartbeats.c.integration == integration)
    return list((await session.execute(query)).all())
