"""The triage agent's own record of the decisions it made."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Float, MetaData, String, Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from reasonops_contracts.agents import AgentDecisionRecorded
from reasonops_runtime import UtcDateTime
from reasonops_runtime.store import select_in

metadata = MetaData()

decisions = Table(
    "triage_decisions",
    metadata,
    Column("decision_id", String(64), primary_key=True),
    # One decision per request, however often the request is delivered or re-sent.
    Column("request_id", String(64), nullable=False, unique=True),
    Column("workflow_id", String(128), nullable=False),
    Column("incident_id", String(32), nullable=False, index=True),
    Column("provider", String(64), nullable=False),
    Column("model", String(128), nullable=False),
    Column("category", String(32), nullable=False),
    Column("confidence", Float, nullable=False),
    Column("latency_ms", Float, nullable=False),
    Column("output", JSON, nullable=False),
    Column("decided_at", UtcDateTime(), nullable=False),
)


async def decided(session: AsyncSession, request_ids: set[str]) -> set[str]:
    """Which of ``request_ids`` already have a decision."""
    rows = await select_in(session, select(decisions.c.request_id), decisions.c.request_id,
                           request_ids)
    return {row.request_id for row in rows}


async def record(session: AsyncSession, made: list[AgentDecisionRecorded]) -> None:
    if not made:
        return
    await session.execute(insert(decisions), [dict(
        decision_id=d.decision_id, request_id=d.request_id, workflow_id=d.workflow_id,
        incident_id=d.incident_id, provider=d.provider, model=d.model,
        category=d.output.category, confidence=d.output.confidence,
        latency_ms=d.latency_ms, output=d.output.model_dump(mode="json"),
        decided_at=d.decided_at) for d in made])
