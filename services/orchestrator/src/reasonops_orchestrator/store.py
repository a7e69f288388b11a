"""The orchestrator's tables: workflow instances and their steps.

Every change is written in the transaction of the message that caused it, so a
restarted orchestrator resumes each instance exactly where it stood.
"""

from __future__ import annotations

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


async def insert_workflow(session: AsyncSession, workflow: Workflow) -> None:
    await session.execute(insert(instances).values(workflow_id=workflow.workflow_id,
                                                   **_instance_row(workflow)))
    await session.execute(insert(steps), [
        {"workflow_id": workflow.workflow_id, "step": step.name, "position": position,
         **_step_row(step)}
        for position, step in enumerate(workflow.steps)])


async def update_workflow(session: AsyncSession, workflow: Workflow) -> None:
    await session.execute(update(instances)
                          .where(instances.c.workflow_id == workflow.workflow_id)
                          .values(**_instance_row(workflow)))
    await session.execute(
        update(steps).where(steps.c.workflow_id == bindparam("b_workflow"),
                            steps.c.step == bindparam("b_step")),
        [{"b_workflow": workflow.workflow_id, "b_step": step.name, **_step_row(step)}
         for step in workflow.steps])


async def _load(session: AsyncSession, row: Any) -> Workflow:
    found = await session.execute(select(steps).where(steps.c.workflow_id == row.workflow_id)
                                  .order_by(steps.c.position))
    return Workflow(
        workflow_id=row.workflow_id, workflow=row.workflow, version=row.version,
        incident_id=row.incident_id, correlation_id=row.correlation_id,
        started_at=row.started_at, state=RunState(row.state), completed_at=row.completed_at,
        outcome=row.outcome,
        steps=[Step(name=s.step, state=StepState(s.state), started_at=s.started_at,
                    completed_at=s.completed_at, result=dict(s.result or {}),
                    request_id=s.request_id) for s in found],
    )


async def get_workflow(session: AsyncSession, workflow_id: str) -> Workflow | None:
    row = (await session.execute(
        select(instances).where(instances.c.workflow_id == workflow_id))).first()
    return None if row is None else await _load(session, row)


async def find_for_incident(session: AsyncSession, incident_id: str,
                            workflow: str) -> Workflow | None:
    row = (await session.execute(
        select(instances).where(instances.c.incident_id == incident_id,
                                instances.c.workflow == workflow))).first()
    return None if row is None else await _load(session, row)
