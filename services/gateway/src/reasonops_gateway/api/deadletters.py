"""Dead letters: what the consumers gave up on, whole, with what was done with them;
replayed or discarded by a command to the service that parked each (ADR 0039), which
checks the caller's policy (``deadletter.replay``, ``deadletter.discard``) and keeps the
record."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from reasonops_contracts.deadletter import (
    DeadLetterDiscarded,
    DeadLetterReplayed,
    DiscardDeadLetter,
    ReplayDeadLetter,
)
from reasonops_runtime.dead_letters import (
    DeadLetter,
    DeadLetterError,
    DeadLetterView,
    Status,
    dead_letter,
    dead_letters,
)

from .context import CallerDep, Gateway, GatewayDep
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
    return (await _letter(gateway, sequence)).view(whole=True)


class DiscardBody(BaseModel):
    reason: str = Field(min_length=1, max_length=1000, pattern=r"\S",
                        description="Why the message is not to be handled")


@router.post("/{sequence}/replay", response_model=DeadLetterReplayed,
             summary="Have a dead letter handled again by the consumer that parked it")
async def replay(caller: CallerDep, gateway: GatewayDep,
                 sequence: Annotated[int, Path(ge=1)]) -> DeadLetterReplayed:
    """Once what failed it is fixed. ``outcome`` is ``handled``, or ``duplicate`` when an
    earlier replay handled it (nothing changes); a message that fails again stays parked
    and the answer (409) says why."""
    letter = await _letter(gateway, sequence)
    return await gateway.ask(caller, ReplayDeadLetter(service=letter.record.service,
                                                      sequence=sequence), DeadLetterReplayed)


@router.post("/{sequence}/discard", response_model=DeadLetterDiscarded,
             summary="Record that a dead letter is not to be handled, and why")
async def discard(caller: CallerDep, gateway: GatewayDep,
                  sequence: Annotated[int, Path(ge=1)], body: DiscardBody
                  ) -> DeadLetterDiscarded:
    letter = await _letter(gateway, sequence)
    return await gateway.ask(caller, DiscardDeadLetter(
        service=letter.record.service, sequence=sequence, reason=body.reason.strip()),
        DeadLetterDiscarded)


async def _letter(gateway: Gateway, sequence: int) -> DeadLetter:
    try:
        return await gateway.ask_all(lambda nc: dead_letter(nc, sequence))
    except DeadLetterError as exc:
        raise Problem(404, "not_found", str(exc)) from None
