"""The triage agent's own record of the decisions it made."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Float, MetaData, String, Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from reasonops_contracts.agents import AgentDecisionRecorded
from reasonops_runtime import UtcDateTime

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


async def decided(session: AsyncSession, request_id: str) -> bool:
    found = await session.execute(
        select(decisions.c.decision_id).where(decisions.c.request_id == request_id))
    return found.first() is not None


async def record(session: AsyncSession, decision: AgentDecisionRecorded) -> None:
    await session.execute(insert(decisions).values(
        decision_id=decision.decision_id, request_id=decision.request_id,
        workflow_id=decision.workflow_id, incident_id=decision.incident_id,
        provider=decision.provider, model=decision.model,
        category=decision.output.category, confidence=decision.output.confidence,
        latency_ms=decision.latency_ms, output=decision.output.model_dump(mode="json"),
        decided_at=decision.decided_at,
    ))
