"""``/api/problems``: recurring incidents of one correlation group, and their root
cause work."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from reasonops_contracts.incidents import (
    PROBLEM_ID_PATTERN,
    GetProblem,
    ListProblems,
    ProblemList,
    ProblemState,
    ProblemView,
    UpdateProblem,
)

from .bodies import body_of
from .context import CallerDep, GatewayDep

router = APIRouter(prefix="/api/problems", tags=["problems"])
if TYPE_CHECKING:  # the bodies are made at import; to mypy, any model
    UpdateBody = BaseModel
else:
    UpdateBody = body_of(UpdateProblem, without=("problem_id",))

ProblemId = Annotated[str, Path(pattern=PROBLEM_ID_PATTERN, description="PRB0000001")]


@router.get("", response_model=ProblemList, summary="List problems")
async def list_problems(caller: CallerDep, gateway: GatewayDep,
                        state: Annotated[list[ProblemState] | None, Query()] = None,
                        limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> ProblemList:
    return await gateway.ask(caller, ListProblems(states=state, limit=limit), ProblemList)


@router.get("/{problem_id}", response_model=ProblemView, summary="One problem")
async def show(caller: CallerDep, gateway: GatewayDep, problem_id: ProblemId) -> ProblemView:
    return await gateway.ask(caller, GetProblem(problem_id=problem_id), ProblemView)


@router.patch("/{problem_id}", response_model=ProblemView,
              summary="Move a problem on (investigating, known_error, resolved)")
async def update(caller: CallerDep, gateway: GatewayDep, problem_id: ProblemId,
                 body: UpdateBody) -> ProblemView:
    return await gateway.ask(caller, UpdateProblem(problem_id=problem_id,
                                                   **body.model_dump()), ProblemView)
