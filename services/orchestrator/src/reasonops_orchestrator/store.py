"""The orchestrator's tables: instances (with the definition they run), steps, what they
wait for, the I/O effects they owe, proposals seen and review records.

Every change is written in the transaction of the message that caused it, so a
restarted orchestrator resumes each instance exactly where it stood.
"""

from __future__ import annotations

from collections.abc import Sequence
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
    UniqueConstraint,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from reasonops_runtime import UtcDateTime
from reasonops_runtime.store import select_in

from .definitions import WorkflowDefinition
from .domain import Instance, StepRun

metadata = MetaData()

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
    Column("definition", JSON, nullable=False),
    Column("trigger", JSON, nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("completed_at", UtcDateTime(), nullable=True),
    Column("outcome", Text, nullable=True),
    Column("error", Text, nullable=True),
    Column("failed_step", String(64), nullable=True),
    UniqueConstraint("workflow", "key", name="uq_workflow_key"),
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

seen = Table(
    "workflow_seen_events", metadata,
    Column("message_id", String(64), primary_key=True),
    Column("event_type", String(128), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("seen_at", UtcDateTime(), nullable=False),
    Index("ix_workflow_seen_type_at", "event_type", "seen_at"),
)

mutex = Table(
    "workflow_mutex", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
)

WILDCARD = "*"


def _instance_row(i: Instance) -> dict[str, Any]:
    return {"workflow": i.workflow, "version": i.version, "key": i.key,
            "incident_id": i.incident_id, "incident_ids": i.incident_ids,
            "correlation_id": i.correlation_id, "state": i.state,
            "definition": i.definition.model_dump(mode="json", by_alias=True),
            "trigger": i.trigger, "started_at": i.started_at, "updated_at": i.updated_at,
            "completed_at": i.completed_at, "outcome": i.outcome, "error": i.error,
            "failed_step": i.failed_step}


def _step_row(run: StepRun) -> dict[str, Any]:
    return {"state": run.state, "attempt": run.attempt, "started_at": run.started_at,
            "completed_at": run.completed_at, "output": run.output, "error": run.error}


async def insert_instance(session: AsyncSession, instance: Instance) -> None:
    await session.execute(insert(instances).values(workflow_id=instance.instance_id,
                                                   **_instance_row(instance)))
    await session.execute(insert(steps), [
        {"workflow_id": instance.instance_id, "step": run.id, "position": n, **_step_row(run)}
        for n, run in enumerate(instance.steps.values())])


async def update_instance(session: AsyncSession, instance: Instance) -> None:
    await session.execute(update(instances).where(
        instances.c.workflow_id == instance.instance_id).values(**_instance_row(instance)))
    await session.execute(
        update(steps).where(steps.c.workflow_id == bindparam("b_workflow"),
                            steps.c.step == bindparam("b_step")),
        [{"b_workflow": instance.instance_id, "b_step": run.id, **_step_row(run)}
         for run in instance.steps.values()])


def _instance(row: Any, step_rows: Sequence[Any]) -> Instance:
    definition = WorkflowDefinition.model_validate(row.definition)
    instance = Instance(
        instance_id=row.workflow_id, definition=definition, key=row.key, trigger=row.trigger,
        correlation_id=row.correlation_id, started_at=row.started_at,
        updated_at=row.updated_at, incident_id=row.incident_id,
        incident_ids=list(row.incident_ids or []), state=row.state,
        completed_at=row.completed_at, outcome=row.outcome, error=row.error,
        failed_step=row.failed_step)
    instance.steps = {s.step: StepRun(s.step, s.state, s.attempt, s.started_at, s.completed_at,
                                      dict(s.output or {}), s.error)
                      for s in sorted(step_rows, key=lambda s: s.position)}
    return instance


async def load(session: AsyncSession, ids: set[str], *,
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
    return {row.workflow_id: _instance(row, by_id[row.workflow_id]) for row in rows}


async def get(session: AsyncSession, workflow_id: str, *,
              lock: bool = False) -> Instance | None:
    return (await load(session, {workflow_id}, lock=lock)).get(workflow_id)


async def find(session: AsyncSession, *, workflow: str | None = None, state: str | None = None,
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


async def count_active(session: AsyncSession, workflow: str) -> int:
    return int((await session.execute(select(func.count()).where(
        instances.c.workflow == workflow,
        instances.c.state.in_(["running", "compensating"])))).scalar() or 0)


async def oldest_queued(session: AsyncSession, workflow: str) -> Instance | None:
    row = (await session.execute(select(instances.c.workflow_id).where(
        instances.c.workflow == workflow, instances.c.state == "queued")
        .order_by(instances.c.started_at, instances.c.workflow_id).limit(1))).first()
    return None if row is None else await get(session, row.workflow_id)


async def ensure_mutex(session: AsyncSession) -> None:
    if (await session.execute(select(mutex.c.id).where(mutex.c.id == 1))).first() is None:
        await session.execute(insert(mutex).values(id=1))


async def serialise(session: AsyncSession) -> None:
    """Hold the orchestrator's one lock row until the transaction ends (PostgreSQL; SQLite
    serialises writers anyway): an event on one stream and the instance it is awaited by,
    started from another, are then never handled side by side, each missing the other."""
    await session.execute(select(mutex.c.id).where(mutex.c.id == 1).with_for_update())


# -- waits ---------------------------------------------------------------------------------

async def add_wait(session: AsyncSession, workflow_id: str, step: str, event_type: str,
                   value: str) -> None:
    await remove_waits(session, workflow_id, step)
    await session.execute(insert(waits).values(workflow_id=workflow_id, step=step,
                                               event_type=event_type, value=value[:256]))


async def remove_waits(session: AsyncSession, workflow_id: str, step: str) -> None:
    await session.execute(delete(waits).where(waits.c.workflow_id == workflow_id,
                                              waits.c.step == step))


async def remove_all_waits(session: AsyncSession, workflow_id: str) -> None:
    await session.execute(delete(waits).where(waits.c.workflow_id == workflow_id))


async def waiting_for(session: AsyncSession, event_type: str, values: set[str]) -> set[str]:
    """Instances waiting on ``event_type`` with one of ``values`` (or any value)."""
    rows = await select_in(session, select(waits.c.workflow_id).where(
        waits.c.event_type == event_type), waits.c.value, {*values, WILDCARD})
    return {r.workflow_id for r in rows}


async def remember(session: AsyncSession, message_id: str, event_type: str,
                   payload: dict[str, Any], at: datetime, keep_since: datetime) -> None:
    """Keep an awaited event for a while: an instance started just after it (its trigger
    came on another stream) still sees it."""
    await session.execute(delete(seen).where(seen.c.seen_at < keep_since))
    await session.execute(insert(seen).values(message_id=message_id, event_type=event_type,
                                              payload=payload, seen_at=at))


async def seen_since(session: AsyncSession, event_type: str,
                     since: datetime) -> list[dict[str, Any]]:
    rows = (await session.execute(select(seen.c.payload).where(
        seen.c.event_type == event_type, seen.c.seen_at >= since)
        .order_by(seen.c.seen_at))).all()
    return [dict(r.payload) for r in rows]
