"""The problems table and its reads and writes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import JSON, Column, Index, Integer, String, Table, Text, select, update

from reasonops_runtime import UtcDateTime
from reasonops_runtime.store import Session

from ..incident import store
from ..store import metadata
from .domain import Problem

problems_table = Table(
    "problems",
    metadata,
    Column("problem_id", String(32), primary_key=True),
    Column("seq", Integer, nullable=False, unique=True),
    Column("title", String(1024), nullable=False),
    Column("group_key", String(512), nullable=False),
    Column("service", String(256), nullable=True),
    Column("state", String(16), nullable=False),
    Column("workaround", Text, nullable=True),
    Column("opened_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("resolved_at", UtcDateTime(), nullable=True),
    Column("history", JSON, nullable=False),
    Index("ix_problems_group_state", "group_key", "state"),
)

def _from_row(row: Any) -> Problem:
    return Problem(problem_id=row.problem_id, title=row.title, group_key=row.group_key,
                   service=row.service, state=row.state, opened_at=row.opened_at,
                   updated_at=row.updated_at, workaround=row.workaround,
                   resolved_at=row.resolved_at, history=list(row.history or []))


async def get_problem(session: Session, problem_id: str) -> Problem | None:
    row = (await session.execute(select(problems_table).where(
        problems_table.c.problem_id == problem_id))).first()
    return None if row is None else _from_row(row)


async def list_problems(session: Session, states: Sequence[str] | None, limit: int
                        ) -> list[Problem]:
    query = select(problems_table).order_by(problems_table.c.seq.desc()).limit(limit)
    if states:
        query = query.where(problems_table.c.state.in_(states))
    return [_from_row(r) for r in await session.execute(query)]


async def save_problem(session: Session, problem: Problem) -> None:
    await session.execute(update(problems_table).where(
        problems_table.c.problem_id == problem.problem_id).values(
        state=problem.state, workaround=problem.workaround, updated_at=problem.updated_at,
        resolved_at=problem.resolved_at, history=problem.history))


async def incidents_of(session: Session, problem_id: str) -> list[str]:
    rows = await session.execute(select(store.incidents.c.incident_id).where(
        store.incidents.c.problem_id == problem_id).order_by(store.incidents.c.seq))
    return [r.incident_id for r in rows]
