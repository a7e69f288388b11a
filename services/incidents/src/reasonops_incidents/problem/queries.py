"""Problem queries."""

from __future__ import annotations

from reasonops_contracts.incidents import (
    GetProblem,
    ListProblems,
    ProblemList,
    ProblemView,
)
from reasonops_runtime import NotFound, Service

from ..access import Access
from .store import get_problem, incidents_of, list_problems
from .views import problem_view


class ProblemQueries:
    """One problem with its incidents, or a list: those of the services (and their teams)
    the principal's roles cover."""

    def __init__(self, service: Service, access: Access) -> None:
        self.service = service
        self.access = access

    async def get(self, query: GetProblem) -> ProblemView:
        async with self.service.store.read() as session:
            problem = await get_problem(session, query.problem_id)
            if problem is None:
                raise NotFound(f"no problem {query.problem_id}", "problem_id")
            self.access.read(query.actor, "problem", problem.service, problem.problem_id)
            return problem_view(problem, await incidents_of(session, problem.problem_id))

    async def list_(self, query: ListProblems) -> ProblemList:
        visible = self.access.visibility(query.actor, "problems")
        async with self.service.store.read() as session:
            found = [p for p in await list_problems(session, query.states, query.limit)
                     if self.access.covers(visible, p.service)]
            return ProblemList(items=[problem_view(p, await incidents_of(session, p.problem_id))
                                      for p in found])

    def register(self) -> None:
        self.service.respond(GetProblem, self.get)
        self.service.respond(ListProblems, self.list_)
