"""``/api/silences``: silences and maintenance windows (matching alerts are recorded but
open no incident and page no one)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel

from reasonops_contracts.incidents import (
    SILENCE_ID_PATTERN,
    CreateSilence,
    ExpireSilence,
    GetSilence,
    ListSilences,
    SilenceList,
    SilenceView,
)

from .bodies import body_of
from .context import CallerDep, GatewayDep

router = APIRouter(prefix="/api/silences", tags=["silences"])
if TYPE_CHECKING:  # the bodies are made at import; to mypy, any model
    CreateBody = BaseModel
else:
    CreateBody = body_of(CreateSilence)

SilenceId = Annotated[str, Path(pattern=SILENCE_ID_PATTERN, description="SIL0000001")]


@router.get("", response_model=SilenceList, summary="Silences and maintenance windows")
async def list_silences(caller: CallerDep, gateway: GatewayDep,
                        include_expired: bool = False) -> SilenceList:
    return await gateway.ask(caller, ListSilences(include_expired=include_expired),
                             SilenceList)


@router.post("", response_model=SilenceView, status_code=201,
             summary="Silence alerts, or open a maintenance window")
async def create(caller: CallerDep, gateway: GatewayDep,
                 body: CreateBody) -> SilenceView:
    return await gateway.ask(caller, CreateSilence(**body.model_dump()), SilenceView)


@router.get("/{silence_id}", response_model=SilenceView, summary="One silence")
async def show(caller: CallerDep, gateway: GatewayDep, silence_id: SilenceId) -> SilenceView:
    return await gateway.ask(caller, GetSilence(silence_id=silence_id), SilenceView)


@router.delete("/{silence_id}", response_model=SilenceView, summary="Expire a silence now")
async def expire(caller: CallerDep, gateway: GatewayDep, silence_id: SilenceId) -> SilenceView:
    return await gateway.ask(caller, ExpireSilence(silence_id=silence_id), SilenceView)
