"""Problem -> the contract's read model."""

from __future__ import annotations

from datetime import datetime

from reasonops_contracts.incidents import ProblemView, TimelineEntry

from .domain import Problem


def problem_view(problem: Problem, incident_ids: list[str]) -> ProblemView:
    return ProblemView(
        problem_id=problem.problem_id, title=problem.title, state=problem.state,  # type: ignore[arg-type]
        group_key=problem.group_key, service=problem.service, workaround=problem.workaround,
        opened_at=problem.opened_at, updated_at=problem.updated_at,
        resolved_at=problem.resolved_at, incident_ids=incident_ids,
        history=[TimelineEntry(at=datetime.fromisoformat(h["at"]), actor=h["actor"],
                               kind="state_changed" if h["kind"] != "opened" else "opened",
                               detail=h["detail"]) for h in problem.history])
