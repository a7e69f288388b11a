"""``/api/changes``: change requests, their lifecycle, the change calendar (with freezes
and the templates of standard changes) and a month's change metrics."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from reasonops_contracts.changes import (
    CHANGE_ID_PATTERN,
    CancelChange,
    ChangeCalendar,
    ChangeList,
    ChangeMetrics,
    ChangeState,
    ChangeView,
    CompleteChange,
    GetChange,
    GetChangeCalendar,
    GetChangeMetrics,
    ListChanges,
    RequestChange,
    StartChange,
)
from reasonops_contracts.ids import MONTH_PATTERN

from .bodies import body_of
from .context import CallerDep, GatewayDep

router = APIRouter(prefix="/api/changes", tags=["changes"])
if TYPE_CHECKING:  # the bodies are made at import; to mypy, any model
    RequestBody = BaseModel
    StartBody = BaseModel
    CompleteBody = BaseModel
    CancelBody = BaseModel
else:
    RequestBody = body_of(RequestChange)
    StartBody = body_of(StartChange, without=("change_id",))
    CompleteBody = body_of(CompleteChange, without=("change_id",))
    CancelBody = body_of(CancelChange, without=("change_id",))

ChangeId = Annotated[str, Path(pattern=CHANGE_ID_PATTERN, description="CHG0000001")]


@router.post("", response_model=ChangeView, status_code=201, summary="Request a change")
async def request_change(caller: CallerDep, gateway: GatewayDep, body: RequestBody
                         ) -> ChangeView:
    """A standard change (a template's, approved at once), a normal one (the change
    advisory board decides) or an emergency (approved at once, reviewed afterwards).
    409 with the reason when its window overlaps another change on one of its services
    or a freeze. Takes ``change.request``."""
    return await gateway.ask(caller, RequestChange(**body.model_dump()), ChangeView)


@router.get("", response_model=ChangeList, summary="Changes")
async def list_changes(caller: CallerDep, gateway: GatewayDep,
                       state: Annotated[list[ChangeState] | None, Query()] = None,
                       service: str | None = None, incident_id: str | None = None,
                       limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> ChangeList:
    """Newest first; ``incident_id``: the changes an incident is linked to."""
    return await gateway.ask(caller, ListChanges(states=state, service=service,
                                                 incident_id=incident_id, limit=limit),
                             ChangeList)


@router.get("/calendar", response_model=ChangeCalendar, summary="The change calendar")
async def calendar(caller: CallerDep, gateway: GatewayDep, start: datetime | None = None,
                   end: datetime | None = None, service: str | None = None
                   ) -> ChangeCalendar:
    """Changes and freezes between ``start`` and ``end`` (default: the next 14 days),
    and the templates of standard changes."""
    return await gateway.ask(caller, GetChangeCalendar(start=start, end=end,
                                                       service=service), ChangeCalendar)


@router.get("/metrics/{month}", response_model=ChangeMetrics, summary="A month's change "
            "metrics")
async def metrics(caller: CallerDep, gateway: GatewayDep,
                  month: Annotated[str, Path(pattern=MONTH_PATTERN)]
                  ) -> ChangeMetrics:
    """Success rate, change-caused incident rate and emergency change ratio of the
    changes completed in ``month`` (YYYY-MM)."""
    return await gateway.ask(caller, GetChangeMetrics(month=month), ChangeMetrics)


@router.get("/{change_id}", response_model=ChangeView, summary="A change")
async def get_change(caller: CallerDep, gateway: GatewayDep, change_id: ChangeId
                     ) -> ChangeView:
    return await gateway.ask(caller, GetChange(change_id=change_id), ChangeView)


@router.post("/{change_id}/start", response_model=ChangeView, summary="Start implementing")
async def start(caller: CallerDep, gateway: GatewayDep, change_id: ChangeId,
                body: StartBody) -> ChangeView:
    """Within its window (an emergency: at any time); its services get a maintenance
    window. Takes ``change.implement``."""
    return await gateway.ask(caller, StartChange(change_id=change_id, **body.model_dump()),
                             ChangeView)


@router.post("/{change_id}/complete", response_model=ChangeView, summary="Complete it")
async def complete(caller: CallerDep, gateway: GatewayDep, change_id: ChangeId,
                   body: CompleteBody) -> ChangeView:
    """With its outcome (successful, failed, backed_out); the maintenance window ends.
    Takes ``change.implement``."""
    return await gateway.ask(caller, CompleteChange(change_id=change_id,
                                                    **body.model_dump()), ChangeView)


@router.post("/{change_id}/cancel", response_model=ChangeView, summary="Withdraw it")
async def cancel(caller: CallerDep, gateway: GatewayDep, change_id: ChangeId,
                 body: CancelBody) -> ChangeView:
    return await gateway.ask(caller, CancelChange(change_id=change_id, **body.model_dump()),
                             ChangeView)
