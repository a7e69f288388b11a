"""Problem management: the same correlation group recurring N times within M days opens a
problem (PRB0000001) that links its incidents; problems move new -> investigating ->
known_error (with a workaround) -> resolved."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Column, Index, Integer, String, Table, Text, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from reasonops_contracts import Envelope
from reasonops_contracts.incidents import ProblemOpened, ProblemUpdated
from reasonops_runtime import Transaction, UtcDateTime
from reasonops_runtime.store import select_in

from . import store
from .domain import Incident
from .rules import RuleSet
from .timeline import Timeline

problems_table = Table(
    "problems",
    store.metadata,
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

# state -> states it may move to
PROBLEM_TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"investigating", "known_error", "resolved"}),
    "investigating": frozenset({"known_error", "resolved"}),
    "known_error": frozenset({"investigating", "resolved"}),
    "resolved": frozenset({"investigating"}),
}


class ProblemError(ValueError):
    def __init__(self, message: str, field_: str) -> None:
        super().__init__(message)
        self.field = field_


@dataclass
class Problem:
    problem_id: str
    title: str
    group_key: str
    service: str | None
    state: str
    opened_at: datetime
    updated_at: datetime
    workaround: str | None = None
    resolved_at: datetime | None = None
    history: list[dict[str, str]] = field(default_factory=list)

    def move(self, state: str, *, at: datetime, actor: str, workaround: str | None,
             note: str | None) -> str:
        """Change state or raise ``ProblemError``; returns the previous state."""
        if state == self.state and workaround is None:
            raise ProblemError(f"{self.problem_id} is already {state}", "state")
        if state != self.state and state not in PROBLEM_TRANSITIONS[self.state]:
            allowed = ", ".join(sorted(PROBLEM_TRANSITIONS[self.state]))
            raise ProblemError(f"cannot move {self.problem_id} from {self.state} to {state} "
                               f"(allowed: {allowed})", "state")
        if state == "known_error" and not (workaround or self.workaround):
            raise ProblemError("a known error needs a workaround", "workaround")
        previous = self.state
        self.state = state
        self.workaround = workaround or self.workaround
        self.updated_at = at
        self.resolved_at = at if state == "resolved" else None
        self.history.append({"at": at.isoformat(), "actor": actor, "kind": "state_changed",
                             "detail": f"{previous} -> {state}" + (f": {note}" if note else "")
                             + (f" (workaround: {workaround})" if workaround else "")})
        return previous


def _from_row(row: Any) -> Problem:
    return Problem(problem_id=row.problem_id, title=row.title, group_key=row.group_key,
                   service=row.service, state=row.state, opened_at=row.opened_at,
                   updated_at=row.updated_at, workaround=row.workaround,
                   resolved_at=row.resolved_at, history=list(row.history or []))


async def get_problem(session: AsyncSession, problem_id: str) -> Problem | None:
    row = (await session.execute(select(problems_table).where(
        problems_table.c.problem_id == problem_id))).first()
    return None if row is None else _from_row(row)


async def list_problems(session: AsyncSession, states: Sequence[str] | None, limit: int
                        ) -> list[Problem]:
    query = select(problems_table).order_by(problems_table.c.seq.desc()).limit(limit)
    if states:
        query = query.where(problems_table.c.state.in_(states))
    return [_from_row(r) for r in await session.execute(query)]


async def save_problem(session: AsyncSession, problem: Problem) -> None:
    await session.execute(update(problems_table).where(
        problems_table.c.problem_id == problem.problem_id).values(
        state=problem.state, workaround=problem.workaround, updated_at=problem.updated_at,
        resolved_at=problem.resolved_at, history=problem.history))


async def incidents_of(session: AsyncSession, problem_id: str) -> list[str]:
    rows = await session.execute(select(store.incidents.c.incident_id).where(
        store.incidents.c.problem_id == problem_id).order_by(store.incidents.c.seq))
    return [r.incident_id for r in rows]


class Problems:
    """Opens and links problems as incidents open."""

    async def on_opened(self, tx: Transaction, opened: Sequence[Incident], rules: RuleSet,
                        numbers: store.Numbers, timeline: Timeline, now: datetime,
                        cause: dict[str, Envelope] | None = None) -> None:
        keys = {i.group_key for i in opened if i.group_key}
        if not keys:
            return
        session = tx.session
        recent = await store.recurrences(session, keys,
                                         now - timedelta(seconds=rules.problem_within))
        due = {k: ids for k, ids in recent.items() if len(ids) >= rules.problem_recurrence}
        if not due:
            return
        rows = await select_in(session, select(problems_table).where(
            problems_table.c.state != "resolved"), problems_table.c.group_key, due)
        existing = {r.group_key: r.problem_id for r in rows}
        by_id = {i.incident_id: i for i in opened}
        for key, ids in due.items():
            problem_id = existing.get(key)
            fresh = [i for i in ids if i in by_id]
            if problem_id is None:
                first = by_id.get(ids[-1])
                problem_id = f"PRB{await numbers.next('problem'):07d}"
                title = f"Recurring: {first.title if first else key}"
                await session.execute(insert(problems_table).values(
                    problem_id=problem_id, seq=int(problem_id[3:]), title=title, group_key=key,
                    service=first.service if first else None, state="new", opened_at=now,
                    updated_at=now, history=[{"at": now.isoformat(), "actor": "incidents",
                                              "kind": "opened", "detail":
                                              f"{len(ids)} incidents of {key} within "
                                              f"{rules.problem_within}s"}]))
                event = ProblemOpened(problem_id=problem_id, title=title, group_key=key,
                                      service=first.service if first else None,
                                      incident_ids=ids, opened_at=now,
                                      reason=f"{len(ids)} incidents of one correlation group "
                                             f"within {rules.problem_within}s")
                origin = (cause or {}).get(ids[-1])
                envelope = (origin.caused(event, source="incidents", subject=problem_id)
                            if origin else Envelope.wrap(event, source="incidents",
                                                         subject=problem_id))
                tx.emit(envelope)
                fresh = ids
            await store.link_problem(session, fresh, problem_id)
            for incident_id in fresh:
                if incident_id in by_id:
                    by_id[incident_id].problem_id = problem_id
                timeline.add(incident_id, now, "incidents", "problem_linked",
                             f"linked to problem {problem_id}", problem=problem_id)


def updated_event(problem: Problem, previous: str, actor: str, note: str | None
                  ) -> ProblemUpdated:
    return ProblemUpdated(problem_id=problem.problem_id, state=problem.state,  # type: ignore[arg-type]
                          previous_state=previous, workaround=problem.workaround,  # type: ignore[arg-type]
                          updated_at=problem.updated_at, actor=actor, note=note)
