"""The orchestrator's tables: workflow instances and their steps.

Every change is written in the transaction of the message that caused it, so a
restarted orchestrator resumes each instance exactly where it stood.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from reasonops_runtime import UtcDateTime
from reasonops_runtime.store import select_in

from .domain import RunState, Step, StepState, Workflow

metadata = MetaData()

instances = Table(
    "workflow_instances",
    metadata,
    Column("workflow_id", String(128), primary_key=True),
    Column("workflow", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("incident_id", String(32), nullable=False, index=True),
    Column("correlation_id", String(64), nullable=False),
    Column("state", String(16), nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("completed_at", UtcDateTime(), nullable=True),
    Column("outcome", Text, nullable=True),
    UniqueConstraint("workflow", "incident_id", name="uq_workflow_incident"),
)

steps = Table(
    "workflow_steps",
    metadata,
    Column("workflow_id", String(128), primary_key=True),
    Column("step", String(64), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("started_at", UtcDateTime(), nullable=True),
    Column("completed_at", UtcDateTime(), nullable=True),
    Column("result", JSON, nullable=False),
    Column("request_id", String(64), nullable=True),
)


def _instance_row(workflow: Workflow) -> dict[str, Any]:
    return {"workflow": workflow.workflow, "version": workflow.version,
            "incident_id": workflow.incident_id, "correlation_id": workflow.correlation_id,
            "state": workflow.state.value, "started_at": workflow.started_at,
            "completed_at": workflow.completed_at, "outcome": workflow.outcome}


def _step_row(step: Step) -> dict[str, Any]:
    return {"state": step.state.value, "started_at": step.started_at,
            "completed_at": step.completed_at, "result": step.result,
            "request_id": step.request_id}


async def insert_workflows(session: AsyncSession, new: Sequence[Workflow]) -> None:
    if not new:
        return
    await session.execute(insert(instances), [
        {"workflow_id": w.workflow_id, **_instance_row(w)} for w in new])
    await session.execute(insert(steps), [
        {"workflow_id": w.workflow_id, "step": step.name, "position": position,
         **_step_row(step)}
        for w in new for position, step in enumerate(w.steps)])


async def update_workflows(session: AsyncSession, changed: Sequence[Workflow]) -> None:
    if not changed:
        return
    await session.execute(
        update(instances).where(instances.c.workflow_id == bindparam("b_workflow")),
        [{"b_workflow": w.workflow_id, **_instance_row(w)} for w in changed])
    await session.execute(
        update(steps).where(steps.c.workflow_id == bindparam("b_workflow"),
                            steps.c.step == bindparam("b_step")),
        [{"b_workflow": w.workflow_id, "b_step": step.name, **_step_row(step)}
         for w in changed for step in w.steps])


def _workflow(row: Any, step_rows: Sequence[Any]) -> Workflow:
    return Workflow(
        workflow_id=row.workflow_id, workflow=row.workflow, version=row.version,
        incident_id=row.incident_id, correlation_id=row.correlation_id,
        started_at=row.started_at, state=RunState(row.state), completed_at=row.completed_at,
        outcome=row.outcome,
        steps=[Step(name=s.step, state=StepState(s.state), started_at=s.started_at,
                    completed_at=s.completed_at, result=dict(s.result or {}),
                    request_id=s.request_id)
               for s in sorted(step_rows, key=lambda s: s.position)],
    )


async def load_workflows(session: AsyncSession, workflow_ids: set[str]) -> dict[str, Workflow]:
    """The instances among ``workflow_ids`` that exist, with their steps, in two queries."""
    rows = await select_in(session, select(instances), instances.c.workflow_id, workflow_ids)
    if not rows:
        return {}
    by_workflow: dict[str, list[Any]] = {row.workflow_id: [] for row in rows}
    for step in await select_in(session, select(steps), steps.c.workflow_id, by_workflow):
        by_workflow[step.workflow_id].append(step)
    return {row.workflow_id: _workflow(row, by_workflow[row.workflow_id]) for row in rows}


async def get_workflow(session: AsyncSession, workflow_id: str) -> Workflow | None:
    return (await load_workflows(session, {workflow_id})).get(workflow_id)


async def find_for_incident(session: AsyncSession, incident_id: str,
                            workflow: str) -> Workflow | None:
    workflow_id = (await session.execute(
        select(instances.c.workflow_id).where(instances.c.incident_id == incident_id,
                                              instances.c.workflow == workflow))).scalar()
    return None if workflow_id is None else await get_workflow(session, workflow_id)
