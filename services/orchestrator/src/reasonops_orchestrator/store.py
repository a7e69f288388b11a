"""The orchestrator's tables: instances (naming the definition they run: see
``definition_store``), steps, what they wait for, the I/O effects they owe, proposals seen
and review records.

Every change is written in the transaction of the message that caused it, so a
restarted orchestrator resumes each instance exactly where it stood.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)

from reasonops_runtime import UtcDateTime
from reasonops_runtime.store import IN_CHUNK, Session, select_in

from .definition_store import definitions_of
from .definitions import WorkflowDefinition, dumped
from .domain import ACTIVE, UNFINISHED, Instance, StepRun
from .tables import metadata

instances = Table(
    "workflow_instances", metadata,
    Column("workflow_id", String(160), primary_key=True),
    Column("workflow", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("key", String(128), nullable=False),
    Column("incident_id", String(32), nullable=True, index=True),
    Column("incident_ids", JSON, nullable=False),
    Column("correlation_id", String(64), nullable=False),
    Column("state", String(16), nullable=False, index=True),
    Column("definition_digest", String(64), nullable=False),
    Column("trigger", JSON, nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("completed_at", UtcDateTime(), nullable=True),
    Column("outcome", Text, nullable=True),
    Column("error", Text, nullable=True),
    Column("failed_step", String(64), nullable=True),
    UniqueConstraint("workflow", "key", name="uq_workflow_key"),
    Index("ix_workflow_instances_queue", "workflow", "state", "started_at"),
)

steps = Table(
    "workflow_steps", metadata,
    Column("workflow_id", String(160), primary_key=True),
    Column("step", String(64), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("started_at", UtcDateTime(), nullable=True),
    Column("completed_at", UtcDateTime(), nullable=True),
    Column("output", JSON, nullable=False),
    Column("error", Text, nullable=True),
)

waits = Table(
    "workflow_waits", metadata,
    Column("workflow_id", String(160), primary_key=True),
    Column("step", String(80), primary_key=True),
    Column("event_type", String(128), nullable=False),
    Column("value", String(256), nullable=False),
    Index("ix_workflow_waits_event", "event_type", "value"),
)

recent = Table(
    "workflow_recent_events", metadata,
    Column("message_id", String(64), primary_key=True),
    Column("value", String(256), primary_key=True),
    Column("event_type", String(128), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("seen_at", UtcDateTime(), nullable=False, index=True),
    Index("ix_workflow_recent_value_at", "value", "seen_at"),
)
"""Awaited events kept for a while, under each value a wait on their type is keyed by
(see ``Catalog.wait_fields``), so an instance started just after one finds it by key."""

mutex = Table(
    "workflow_mutex", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
)

WILDCARD = "*"
"""The value of a wait keyed by no single value: any event of its type may satisfy it."""

def _progress_row(i: Instance) -> dict[str, Any]:
    """What changes while an instance runs (its definition, key and trigger never do)."""
    return {"incident_id": i.incident_id, "incident_ids": i.incident_ids, "state": i.state,
            "started_at": i.started_at, "updated_at": i.updated_at,
            "completed_at": i.completed_at, "outcome": i.outcome, "error": i.error,
            "failed_step": i.failed_step}


def _step_row(run: StepRun) -> dict[str, Any]:
    return {"state": run.state, "attempt": run.attempt, "started_at": run.started_at,
            "completed_at": run.completed_at, "output": run.output, "error": run.error}


async def insert_instances(session: Session, batch: Sequence[Instance]) -> None:
    """New instances with their steps: two statements for the lot (their definitions are
    stored: ``store_definitions``)."""
    if not batch:
        return
    await session.execute(insert(instances), [
        {"workflow_id": i.instance_id, "workflow": i.workflow, "version": i.version,
         "key": i.key, "correlation_id": i.correlation_id,
         "definition_digest": dumped(i.definition)[0], "trigger": i.trigger,
         **_progress_row(i)} for i in batch])
    await session.execute(insert(steps), [
        {"workflow_id": i.instance_id, "step": run.id, "position": n, **_step_row(run)}
        for i in batch for n, run in enumerate(i.steps.values())])


async def update_instances(session: Session,
                           batch: Sequence[tuple[Instance, Sequence[StepRun]]]) -> None:
    """Changed instances and the steps of each that changed: two statements for the lot."""
    if not batch:
        return
    await session.execute(
        update(instances).where(instances.c.workflow_id == bindparam("b_workflow")),
        [{"b_workflow": i.instance_id, **_progress_row(i)} for i, _ in batch])
    changed = [{"b_workflow": i.instance_id, "b_step": run.id, **_step_row(run)}
               for i, runs in batch for run in runs]
    if changed:
        await session.execute(
            update(steps).where(steps.c.workflow_id == bindparam("b_workflow"),
                                steps.c.step == bindparam("b_step")), changed)


def step_signature(run: StepRun) -> tuple[Any, ...]:
    """What ``update_instances`` writes of a step: when it differs, the row is stale."""
    return (run.state, run.attempt, run.started_at, run.completed_at, dict(run.output),
            run.error)


def _instance(row: Any, step_rows: Sequence[Any],
              by_digest: dict[str, WorkflowDefinition]) -> Instance:
    instance = Instance(
        instance_id=row.workflow_id, definition=by_digest[row.definition_digest], key=row.key,
        trigger=row.trigger, correlation_id=row.correlation_id, started_at=row.started_at,
        updated_at=row.updated_at, incident_id=row.incident_id,
        incident_ids=list(row.incident_ids or []), state=row.state,
        completed_at=row.completed_at, outcome=row.outcome, error=row.error,
        failed_step=row.failed_step)
    instance.steps = {s.step: StepRun(s.step, s.state, s.attempt, s.started_at, s.completed_at,
                                      dict(s.output or {}), s.error)
                      for s in sorted(step_rows, key=lambda s: s.position)}
    return instance


async def load(session: Session, ids: Iterable[str], *,
               lock: bool = False) -> dict[str, Instance]:
    """Instances with their steps; ``lock`` holds their rows (FOR UPDATE on PostgreSQL;
    SQLite serialises writers anyway) so concurrent handlers never lose an update."""
    query = select(instances).with_for_update() if lock else select(instances)
    rows = await select_in(session, query, instances.c.workflow_id, ids)
    if not rows:
        return {}
    by_id: dict[str, list[Any]] = {row.workflow_id: [] for row in rows}
    for step in await select_in(session, select(steps), steps.c.workflow_id, by_id):
        by_id[step.workflow_id].append(step)
    by_digest = await definitions_of(session, (row.definition_digest for row in rows))
    return {row.workflow_id: _instance(row, by_id[row.workflow_id], by_digest)
            for row in rows}


async def get(session: Session, workflow_id: str, *,
              lock: bool = False) -> Instance | None:
    return (await load(session, {workflow_id}, lock=lock)).get(workflow_id)


async def find(session: Session, *, workflow: str | None = None, state: str | None = None,
               incident_id: str | None = None, limit: int = 100,
               states: Sequence[str] = ()) -> list[Instance]:
    query = select(instances.c.workflow_id).order_by(instances.c.started_at.desc()).limit(limit)
    if workflow:
        query = query.where(instances.c.workflow == workflow)
    if state:
        query = query.where(instances.c.state == state)
    if states:
        query = query.where(instances.c.state.in_(list(states)))
    if incident_id:
        query = query.where(instances.c.incident_id == incident_id)
    ids = [r.workflow_id for r in (await session.execute(query)).all()]
    loaded = await load(session, set(ids))
    return [loaded[i] for i in ids]


async def running_definitions(session: Session) -> list[WorkflowDefinition]:
    """Each definition an instance not finished yet runs."""
    keys = (await session.execute(
        select(instances.c.definition_digest).distinct()
        .where(instances.c.state.in_(UNFINISHED)))).scalars().all()
    return list((await definitions_of(session, keys)).values())


async def count_active(session: Session, workflow: str) -> int:
    return int((await session.execute(select(func.count()).where(
        instances.c.workflow == workflow,
        instances.c.state.in_(ACTIVE)))).scalar() or 0)


async def oldest_queued(session: Session, workflow: str) -> str | None:
    row = (await session.execute(select(instances.c.workflow_id).where(
        instances.c.workflow == workflow, instances.c.state == "queued")
        .order_by(instances.c.started_at, instances.c.workflow_id).limit(1))).first()
    return None if row is None else str(row.workflow_id)


async def ensure_mutex(session: Session) -> None:
    if (await session.execute(select(mutex.c.id).where(mutex.c.id == 1))).first() is None:
        await session.execute(insert(mutex).values(id=1))


async def serialise(session: Session) -> None:
    """Hold the orchestrator's one lock row until the transaction ends (PostgreSQL; SQLite
    serialises writers anyway): an event on one stream and the instance it is awaited by,
    started from another, are then never handled side by side, each missing the other.
    On SQLite nothing is asked (it has no ``FOR UPDATE``: the statement locked nothing)."""
    if session.dialect.name != "sqlite":
        await session.execute(select(mutex.c.id).where(mutex.c.id == 1).with_for_update())


# -- waits ---------------------------------------------------------------------------------

async def waits_on(session: Session, event_types: Iterable[str],
                   values: Iterable[str]) -> list[Any]:
    """Wait rows on any of ``event_types`` keyed by one of ``values`` or by none."""
    return await select_in(session, select(waits).where(
        waits.c.event_type.in_(list(event_types))), waits.c.value, {*values, WILDCARD})


async def write_waits(session: Session, ended: Iterable[str],
                      changed: dict[tuple[str, str], tuple[str, str] | None],
                      fresh: Collection[str] = ()) -> None:
    """Drop every wait of the ``ended`` instances; set each (instance, step) of
    ``changed`` to its (event type, value), or remove it (None). ``fresh``: instances
    with no wait stored yet (first written now), whose waits need no removing."""
    gone = list(ended)
    for start in range(0, len(gone), IN_CHUNK):
        await session.execute(delete(waits).where(
            waits.c.workflow_id.in_(gone[start:start + IN_CHUNK])))
    stored = [{"b_workflow": w, "b_step": s} for w, s in changed if w not in fresh]
    if stored:
        await session.execute(
            delete(waits).where(waits.c.workflow_id == bindparam("b_workflow"),
                                waits.c.step == bindparam("b_step")), stored)
    rows = [{"workflow_id": w, "step": s, "event_type": found[0], "value": found[1][:256]}
            for (w, s), found in changed.items() if found is not None]
    if rows:
        await session.execute(insert(waits), rows)


# -- awaited events, kept for a while ---------------------------------------------------------

async def recent_with(session: Session, values: Iterable[str],
                      since: datetime) -> list[Any]:
    """Kept events stored under one of ``values``, oldest first."""
    rows = await select_in(session, select(recent).where(recent.c.seen_at >= since),
                           recent.c.value, values)
    return sorted(rows, key=lambda r: r.seen_at)


async def recent_of(session: Session, event_type: str, since: datetime) -> list[Any]:
    """Every kept event of ``event_type`` (for a wait keyed by no single value)."""
    return list((await session.execute(select(recent).where(
        recent.c.event_type == event_type, recent.c.seen_at >= since)
        .order_by(recent.c.seen_at))).all())


async def keep_recent(session: Session, rows: Sequence[dict[str, Any]],
                      keep_since: datetime) -> None:
    """Store this batch's awaited events; forget those older than ``keep_since``, except
    those kept under the key of an instance still queued: it looks for them when it
    starts, however long it waited for a slot."""
    queued = select(instances.c.key).where(instances.c.state == "queued")
    await session.execute(delete(recent).where(recent.c.seen_at < keep_since,
                                               recent.c.value.not_in(queued)))
    if rows:
        await session.execute(insert(recent), list(rows))
