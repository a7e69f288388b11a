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


def register_problems(service: Service, access: Access) -> None:
    async def update(cmd: UpdateProblem) -> ProblemView:
        async with service.transaction() as tx:
            problem = await get_problem(tx.session, cmd.problem_id)
            if problem is None:
                raise NotFound(f"no problem {cmd.problem_id}", "problem_id")
            access.problem(cmd.actor, problem)
            try:
                previous = problem.move(cmd.state, at=service.clock.now(), actor=cmd.actor,
                                        workaround=cmd.workaround, note=cmd.note)
            except ProblemError as exc:
                error = IllegalTransition if exc.field == "state" else DomainError
                raise error(str(exc), exc.field) from None
            await save_problem(tx.session, problem)
            event = updated_event(problem, previous, cmd.actor, cmd.note)
            tx.emit(Envelope.wrap(event, source="incidents", subject=problem.problem_id))
            linked = await incidents_of(tx.session, problem.problem_id)
        return problem_view(problem, linked)

    async def get(query: GetProblem) -> ProblemView:
        async with service.store.read() as session:
            problem = await get_problem(session, query.problem_id)
            if problem is None:
                raise NotFound(f"no problem {query.problem_id}", "problem_id")
            return problem_view(problem, await incidents_of(session, problem.problem_id))

    async def list_(query: ListProblems) -> ProblemList:
        async with service.store.read() as session:
            found = await list_problems(session, query.states, query.limit)
            return ProblemList(items=[problem_view(p, await incidents_of(session, p.problem_id))
                                      for p in found])

    service.respond(UpdateProblem, update)
    service.respond(GetProblem, get)
    service.respond(ListProblems, list_)
