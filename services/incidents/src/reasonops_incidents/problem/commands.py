"""Problem commands and queries."""

from __future__ import annotations

from reasonops_contracts import Envelope
from reasonops_contracts.incidents import (
    GetProblem,
    ListProblems,
    ProblemList,
    ProblemView,
    UpdateProblem,
)
from reasonops_runtime import DomainError, IllegalTransition, NotFound, Service

from ..access import Access
from .domain import ProblemError
from .events import updated_event
from .store import get_problem, incidents_of, list_problems, save_problem
from .views import problem_view


class ProblemCommands:
    """Problem commands and queries: move a problem through its states, read one or a list."""

    def __init__(self, service: Service, access: Access) -> None:
        self.service = service
        self.access = access

    async def update(self, cmd: UpdateProblem) -> ProblemView:
        async with self.service.transaction() as tx:
            problem = await get_problem(tx.session, cmd.problem_id)
            if problem is None:
                raise NotFound(f"no problem {cmd.problem_id}", "problem_id")
            self.access.problem(cmd.actor, problem)
            try:
                previous = problem.move(cmd.state, at=self.service.clock.now(), actor=cmd.actor,
                                        workaround=cmd.workaround, note=cmd.note)
            except ProblemError as exc:
                error = IllegalTransition if exc.field == "state" else DomainError
                raise error(str(exc), exc.field) from None
            await save_problem(tx.session, problem)
            event = updated_event(problem, previous, cmd.actor, cmd.note)
            tx.emit(Envelope.wrap(event, source="incidents", subject=problem.problem_id))
            linked = await incidents_of(tx.session, problem.problem_id)
        return problem_view(problem, linked)

    async def get(self, query: GetProblem) -> ProblemView:
        async with self.service.store.read() as session:
            problem = await get_problem(session, query.problem_id)
            if problem is None:
                raise NotFound(f"no problem {query.problem_id}", "problem_id")
            return problem_view(problem, await incidents_of(session, problem.problem_id))

    async def list_(self, query: ListProblems) -> ProblemList:
        async with self.service.store.read() as session:
            found = await list_problems(session, query.states, query.limit)
            return ProblemList(items=[problem_view(p, await incidents_of(session, p.problem_id))
                                      for p in found])

    def register(self) -> None:
        self.service.respond(UpdateProblem, self.update)
        self.service.respond(GetProblem, self.get)
        self.service.respond(ListProblems, self.list_)


def register_problems(service: Service, access: Access) -> None:
    ProblemCommands(service, access).register()
