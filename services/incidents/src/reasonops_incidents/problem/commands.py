"""Problem commands: move a problem through its states."""

from __future__ import annotations

from reasonops_contracts import Envelope
from reasonops_contracts.incidents import (
    ProblemView,
    UpdateProblem,
)
from reasonops_runtime import DomainError, IllegalTransition, NotFound, Service

from ..access import Access
from .domain import ProblemError
from .events import updated_event
from .queries import ProblemQueries
from .store import get_problem, incidents_of, save_problem
from .views import problem_view


class ProblemCommands:
    """Move a problem through its states (with a workaround for a known error)."""

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

    def register(self) -> None:
        self.service.respond(UpdateProblem, self.update)


def register_problems(service: Service, access: Access) -> None:
    ProblemCommands(service, access).register()
    ProblemQueries(service, access).register()
