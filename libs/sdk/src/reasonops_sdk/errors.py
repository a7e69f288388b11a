"""What a call can raise."""

from __future__ import annotations

from reasonops_contracts.api import ProblemDocument


class ReasonOpsError(Exception):
    """Every error of the SDK."""


class TransportError(ReasonOpsError):
    """The gateway could not be reached (after the retries)."""


class ApiError(ReasonOpsError):
    """The gateway answered with an error: ``status``, and the problem document naming
    what is wrong (``problem.field`` when a field is to blame)."""

    def __init__(self, status: int, problem: ProblemDocument) -> None:
        where = f" ({problem.field})" if problem.field else ""
        super().__init__(f"{status} {problem.title}: {problem.detail}{where}")
        self.status = status
        self.problem = problem

    @property
    def field(self) -> str | None:
        return self.problem.field
