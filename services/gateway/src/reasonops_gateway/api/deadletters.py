"""Dead letters, read: what the consumers gave up on, whole, with what was done with them.
Replaying and discarding publish on the broker and stay with the admin identity's CLI
(``reasonops deadletters replay|discard``, ADR 35): the gateway's identity may not
publish other services' events."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from reasonops_client.deadletters import DeadLetterError, dead_letter, dead_letters

from .context import CallerDep, GatewayDep
from .errors import Problem

router = APIRouter(prefix="/api/deadletters", tags=["administration"])
READ = "deadletter.read"
"""Dead letters carry every service's raw messages: reading them is an action of its own."""


class DeadLetterItem(BaseModel):
    sequence: int
    status: Literal["parked", "replayed", "discarded"]
    service: str
    consumer: str
    subject: str
    error: str
    deliveries: int
    dead_lettered_at: str
    replays: list[dict[str, Any]] = Field(default_factory=list)
    discarded: dict[str, Any] | None = None
    headers: dict[str, str] | None = None
    payload: str | None = None
    payload_base64: str | None = None
    truncated: bool | None = None
    stream_sequence: int | None = None


class DeadLetterList(BaseModel):
    items: list[DeadLetterItem]
    total: int


@router.get("", response_model=DeadLetterList, summary="Dead letters, oldest first")
async def list_dead_letters(
        caller: CallerDep, gateway: GatewayDep,
        service: Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9-]{0,63}$")] = None,
        status: Literal["parked", "replayed", "discarded", "all"] = "parked",
) -> DeadLetterList:
    await gateway.authorise(caller, READ, "deadletters")
    letters = [d for d in await dead_letters(gateway.nc, service=service,
                                             timeout=gateway.timeout)
               if status in ("all", d.status)]
    return DeadLetterList(items=[DeadLetterItem(**d.to_json()) for d in letters],
                          total=len(letters))


@router.get("/{sequence}", response_model=DeadLetterItem,
            summary="One dead letter whole: error, headers and message")
async def get_dead_letter(caller: CallerDep, gateway: GatewayDep,
                          sequence: Annotated[int, Path(ge=1)]) -> DeadLetterItem:
    await gateway.authorise(caller, READ, f"deadletter {sequence}")
    try:
        letter = await dead_letter(gateway.nc, sequence)
    except DeadLetterError as exc:
        raise Problem(404, "not_found", str(exc)) from None
    return DeadLetterItem(**letter.to_json(whole=True))
