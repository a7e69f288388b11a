"""Problem -> the events it publishes."""

from __future__ import annotations

from reasonops_contracts.incidents import ProblemUpdated

from .domain import Problem


def updated_event(problem: Problem, previous: str, actor: str, note: str | None
                  ) -> ProblemUpdated:
    return ProblemUpdated(problem_id=problem.problem_id, state=problem.state,  # type: ignore[arg-type]
                          previous_state=previous, workaround=problem.workaround,  # type: ignore[arg-type]
                          updated_at=problem.updated_at, actor=actor, note=note)
