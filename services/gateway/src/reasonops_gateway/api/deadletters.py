"""Dead letters, read: what the consumers gave up on, whole, with what was done with them.
Replaying and discarding publish on the broker and stay with the admin identity's CLI
(``reasonops deadletters replay|discard``, ADR 35): the gateway's identity may not
publish other services' events."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from reasonops_client.deadletters import (
    DeadLetterError,
    DeadLetterView,
    Status,
    dead_letter,
    dead_letters,
)

from .context import CallerDep, GatewayDep
from .errors import Problem

router = APIRouter(prefix="/api/deadletters", tags=["administration"])
READ = "deadletter.read"
"""Dead letters carry every service's raw messages: reading them is an action of its own."""


class DeadLetterList(BaseModel):
    items: list[DeadLetterView]
    total: int


@router.get("", response_model=DeadLetterList, summary="Dead letters, oldest first")
async def list_dead_letters(
        caller: CallerDep, gateway: GatewayDep,
        service: Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9-]{0,63}$")] = None,
        status: Status | Literal["all"] = "parked",
) -> DeadLetterList:
    await gateway.authorise(caller, READ, "deadletters")
    letters = await dead_letters(gateway.nc, service=service, status=status,
                                 timeout=gateway.timeout)
    return DeadLetterList(items=[d.view() for d in letters], total=len(letters))


@router.get("/{sequence}", response_model=DeadLetterView,
            summary="One dead letter whole: error, headers and message")
async def get_dead_letter(caller: CallerDep, gateway: GatewayDep,
                          sequence: Annotated[int, Path(ge=1)]) -> DeadLetterView:
    await gateway.authorise(caller, READ, f"deadletter {sequence}")
    try:
        letter = await dead_letter(gateway.nc, sequence)
    except DeadLetterError as exc:
        raise Problem(404, "not_found", str(exc)) from None
    return letter.view(whole=True)
