"""The RCA agent's own read model, built from the events it consumes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    func,
    insert,
    select,
    update,
)

from reasonops_contracts.agents import AgentDecisionRecorded
from reasonops_contracts.incidents import IncidentOpened
from reasonops_contracts.ingest import ChangeAccepted, EventAccepted
from reasonops_runtime import UtcDateTime
from reasonops_runtime.migrations import schema
from reasonops_runtime.store import Session
from reasonops_runtime.transaction import conflict_insert

metadata = MetaData(info=schema("agent-rca", "reasonops_agent_rca:revisions"))

incidents = Table(
    "rca_incidents", metadata,
    Column("incident_id", String(32), primary_key=True),
    Column("title", String(1024), nullable=False),  # an incident title's limit
    Column("service", String(256), nullable=True, index=True),
    Column("fingerprint", String(128), nullable=False),
    Column("labels", JSON, nullable=False),
    Column("opened_at", UtcDateTime(), nullable=False, index=True),
    Column("resolved_at", UtcDateTime(), nullable=True),
    Column("resolution", String(2000), nullable=True),
    Column("category", String(32), nullable=True),
    Column("priority", Integer, nullable=True),  # None: opened before it was kept
)
alerts = Table(
    # One row per occurrence: a sender whose events carry no identity of their own
    # (native events) repeats a firing alert with the same fingerprint, status and
    # start; kept once (Alertmanager's repeats are the same message, which the inbox
    # already drops).
    "rca_alerts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("fingerprint", String(128), nullable=False),
    Column("name", String(256), nullable=False),
    Column("service", String(256), nullable=True),
    Column("summary", String(1024), nullable=False),
    Column("status", String(16), nullable=False),
    Column("at", UtcDateTime(), nullable=False, index=True),
    # What a root cause reads: a service's or a fingerprint's alerts around a time.
    Index("ix_rca_alerts_service_at", "service", "at"),
    Index("ux_rca_alerts_occurrence", "fingerprint", "at", "status", unique=True),
)
timeline = Table(
    "rca_timeline", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", String(32), nullable=False, index=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("text", String(1024), nullable=False),
)
decisions = Table(
    # The agents' decisions about incidents (and security findings, which name an
    # address rather than an incident) that a briefing combines.
    "rca_decisions", metadata,
    Column("decision_id", String(64), primary_key=True),
    Column("incident_id", String(32), nullable=True, index=True),
    Column("source", String(256), nullable=True, index=True),
    Column("agent", String(16), nullable=False),
    Column("provider", String(64), nullable=False),
    Column("summary", String(1024), nullable=False),
    Column("output", JSON, nullable=False),
    Column("decided_at", UtcDateTime(), nullable=False),
)
changes = Table(
    "rca_changes", metadata,
    Column("change_id", String(128), primary_key=True),
    Column("summary", String(1024), nullable=False),
    Column("service", String(256), nullable=True, index=True),
    Column("links", JSON, nullable=False),
    Column("at", UtcDateTime(), nullable=False, index=True),
)


async def add_alerts(session: Session, found: Sequence[EventAccepted]) -> None:
    """Each occurrence once (the first of a batch, and none already kept)."""
    rows: dict[tuple[str, datetime, str], dict[str, Any]] = {}
    for e in found:
        at = e.starts_at or e.received_at
        rows.setdefault((e.fingerprint, at, e.status), dict(
            fingerprint=e.fingerprint, name=e.name, service=e.service,
            summary=e.summary[:1024], status=e.status, at=at))
    if rows:
        await session.execute(conflict_insert(session, alerts).on_conflict_do_nothing(),
                              list(rows.values()))


async def add_changes(session: Session, found: Sequence[ChangeAccepted]) -> None:
    ids = {c.change_id for c in found}
    known = {r.change_id for r in await session.execute(
        select(changes.c.change_id).where(changes.c.change_id.in_(ids)))}
    fresh = {c.change_id: c for c in found if c.change_id not in known}
    if fresh:
        await session.execute(insert(changes), [dict(
            change_id=c.change_id, summary=c.summary[:1024], service=c.service,
            links=list(c.links), at=c.timestamp) for c in fresh.values()])


async def add_incidents(session: Session, found: Sequence[IncidentOpened]) -> None:
    ids = {i.incident_id for i in found}
    known = {r.incident_id for r in await session.execute(
        select(incidents.c.incident_id).where(incidents.c.incident_id.in_(ids)))}
    fresh = {i.incident_id: i for i in found if i.incident_id not in known}
    if fresh:
        await session.execute(insert(incidents), [dict(
            incident_id=i.incident_id, title=i.title, service=i.service,
            fingerprint=i.fingerprint, labels=dict(i.labels), opened_at=i.opened_at,
            resolved_at=None, resolution=None, category=None, priority=i.priority)
            for i in fresh.values()])


async def resolved(session: Session,
                   resolutions: Sequence[tuple[str, datetime, str | None]]) -> None:
    """(incident id, when, note) of resolutions, in one statement."""
    if resolutions:
        await session.execute(
            update(incidents).where(incidents.c.incident_id == bindparam("b_id")),
            [{"b_id": i, "resolved_at": at, "resolution": note} for i, at, note in resolutions])


async def categorised(session: Session, categories: Sequence[tuple[str, str]]) -> None:
    """(incident id, category) from triage decisions, in one statement."""
    if categories:
        await session.execute(
            update(incidents).where(incidents.c.incident_id == bindparam("b_id")),
            [{"b_id": i, "category": c} for i, c in categories])


async def prioritised(session: Session, priorities: Sequence[tuple[str, int]]) -> None:
    """(incident id, priority) of priority changes, in one statement."""
    if priorities:
        await session.execute(
            update(incidents).where(incidents.c.incident_id == bindparam("b_id")),
            [{"b_id": i, "priority": p} for i, p in priorities])


async def keep_decisions(session: Session, found: Sequence[AgentDecisionRecorded],
                         sources: dict[str, str]) -> list[AgentDecisionRecorded]:
    """Keep decisions a briefing may combine (one seen again is not kept twice) and
    return the new ones; ``sources``: the address a security decision is about."""
    ids = {d.decision_id for d in found}
    known = {r.decision_id for r in await session.execute(
        select(decisions.c.decision_id).where(decisions.c.decision_id.in_(ids)))}
    fresh = {d.decision_id: d for d in found if d.decision_id not in known}
    if fresh:
        await session.execute(insert(decisions), [dict(
            decision_id=d.decision_id, incident_id=d.incident_id,
            source=sources.get(d.decision_id), agent=d.agent, provider=d.provider,
            summary=(d.summary or "")[:1024], output=d.output.model_dump(mode="json"),
            decided_at=d.decided_at) for d in fresh.values()])
    return list(fresh.values())


async def open_incidents_from(session: Session, sources: Sequence[str]
                              ) -> dict[str, list[str]]:
    """Address -> the unresolved incidents opened about it (a security finding's
    ``source_ip`` label)."""
    if not sources:
        return {}
    address = incidents.c.labels["source_ip"].as_string()
    rows = await session.execute(select(incidents.c.incident_id, address.label("source"))
                                 .where(address.in_(sources),
                                        incidents.c.resolved_at.is_(None)))
    found: dict[str, list[str]] = {}
    for row in rows:
        found.setdefault(str(row.source), []).append(row.incident_id)
    return found


async def viewers(session: Session, incident_ids: Sequence[str], *,
                  since: timedelta) -> dict[str, set[str]]:
    """Incident -> the agents that decided about it (security through a finding on its
    address made at most ``since`` before it opened)."""
    found: dict[str, set[str]] = {i: set() for i in incident_ids}
    if not incident_ids:
        return found
    for row in await session.execute(select(decisions.c.incident_id, decisions.c.agent)
                                     .where(decisions.c.incident_id.in_(incident_ids))
                                     .distinct()):
        found[row.incident_id].add(row.agent)
    address = incidents.c.labels["source_ip"].as_string()
    for hit in await session.execute(
            select(incidents.c.incident_id, incidents.c.opened_at,
                   func.max(decisions.c.decided_at).label("latest"))
            .join(decisions, decisions.c.source == address)
            .where(incidents.c.incident_id.in_(incident_ids))
            .group_by(incidents.c.incident_id, incidents.c.opened_at)):
        if hit.latest >= hit.opened_at - since:
            found[hit.incident_id].add("security")
    return found


async def views_of(session: Session, incident_id: str, source: str | None, *,
                   since: datetime) -> list[Any]:
    """The decisions about ``incident_id``, and the security findings on ``source`` made
    ``since``."""
    about = decisions.c.incident_id == incident_id
    if source:
        about = about | ((decisions.c.source == source) & (decisions.c.decided_at >= since))
    rows = await session.execute(select(decisions).where(about)
                                 .order_by(decisions.c.decided_at).limit(500))
    return list(rows)


async def incident(session: Session, incident_id: str) -> Any:
    return (await session.execute(select(incidents).where(
        incidents.c.incident_id == incident_id))).first()


async def alerts_between(session: Session, *, services: Sequence[str],
                         fingerprint: str | None, start: datetime, end: datetime) -> list[Any]:
    scope = alerts.c.service.in_(services) | (alerts.c.fingerprint == fingerprint) \
        if fingerprint else alerts.c.service.in_(services)
    rows = await session.execute(select(alerts).where(
        scope, alerts.c.status == "firing", alerts.c.at >= start, alerts.c.at <= end)
        .order_by(alerts.c.at).limit(500))
    return list(rows)


async def changes_between(session: Session, *, services: Sequence[str], start: datetime,
                          end: datetime) -> list[Any]:
    rows = await session.execute(select(changes).where(
        changes.c.service.in_(services), changes.c.at >= start, changes.c.at <= end)
        .order_by(changes.c.at.desc()).limit(20))
    return list(rows)


async def past_resolved(session: Session, limit: int) -> list[Any]:
    """The latest resolved incidents, with only what similarity reads (``alertname``
    taken out of the labels by the database, not the whole labels decoded per row)."""
    rows = await session.execute(select(
        incidents.c.incident_id, incidents.c.title, incidents.c.service,
        incidents.c.resolution, incidents.c.labels["alertname"].as_string().label("alertname"))
        .where(incidents.c.resolved_at.is_not(None))
        .order_by(incidents.c.opened_at.desc()).limit(limit))
    return list(rows)


async def note(session: Session, entries: Sequence[tuple[str, datetime, str, str]]) -> None:
    """Add (incident_id, at, kind, text) entries to the incidents' timelines."""
    if entries:
        await session.execute(insert(timeline), [dict(incident_id=i, at=at, kind=k,
                                                      text=t[:1024])
                                                 for i, at, k, t in entries])


async def timeline_of(session: Session, incident_id: str, limit: int = 100) -> list[Any]:
    rows = await session.execute(select(timeline).where(timeline.c.incident_id == incident_id)
                                 .order_by(timeline.c.at, timeline.c.id).limit(limit))
    return list(rows)
