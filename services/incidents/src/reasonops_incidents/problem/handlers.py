"""Problem management as incidents open: the same correlation group recurring N times
within M days opens a problem (PRB0000001) that links its incidents."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import insert, select

from reasonops_contracts import Envelope
from reasonops_contracts.incidents import ProblemOpened
from reasonops_runtime import Transaction
from reasonops_runtime.store import select_in

from ..incident import store
from ..incident.domain import Incident
from ..incident.rules import RuleSet
from ..incident.timeline import Timeline
from ..store import Numbers
from .store import problems_table


class Problems:
    """Opens and links problems as incidents open."""

    async def on_opened(self, tx: Transaction, opened: Sequence[Incident], rules: RuleSet,
                        numbers: Numbers, timeline: Timeline, now: datetime,
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
