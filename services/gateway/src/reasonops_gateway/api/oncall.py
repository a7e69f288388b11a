"""``/api/oncall``: who is on call for a schedule or a service, a schedule's turns and
gaps (also as an iCalendar feed), the schedules, and overrides."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel

from reasonops_contracts.oncall import (
    OVERRIDE_ID_PATTERN,
    SCHEDULE_NAME_PATTERN,
    CreateOverride,
    GetShifts,
    ListSchedules,
    OnCallNow,
    OverrideView,
    RemoveOverride,
    ScheduleList,
    ShiftList,
    WhoIsOnCall,
)

from .bodies import body_of
from .context import CallerDep, GatewayDep

router = APIRouter(prefix="/api/oncall", tags=["on call"])
if TYPE_CHECKING:  # the bodies are made at import; to mypy, any model
    OverrideBody = BaseModel
else:
    OverrideBody = body_of(CreateOverride, without=("schedule",))

ScheduleName = Annotated[str, Path(pattern=SCHEDULE_NAME_PATTERN)]
OverrideId = Annotated[str, Path(pattern=OVERRIDE_ID_PATTERN, description="OVR0000001")]


@router.get("/schedules", response_model=ScheduleList, summary="Schedules and who is on now")
async def schedules(caller: CallerDep, gateway: GatewayDep) -> ScheduleList:
    """Each schedule the caller's roles cover: its layers, overrides to come, the
    services it answers for, who is on call now and its gaps in the next 14 days."""
    return await gateway.ask(caller, ListSchedules(), ScheduleList)


@router.get("/schedules/{name}/now", response_model=OnCallNow,
            summary="Who is on call for a schedule")
async def schedule_now(caller: CallerDep, gateway: GatewayDep, name: ScheduleName,
                       at: datetime | None = None) -> OnCallNow:
    """Now, or at ``at``; ``person`` is null in a gap."""
    return await gateway.ask(caller, WhoIsOnCall(schedule=name, at=at), OnCallNow)


@router.get("/services/{service}/now", response_model=OnCallNow,
            summary="Who is on call for a service")
async def service_now(caller: CallerDep, gateway: GatewayDep, service: str,
                      at: datetime | None = None) -> OnCallNow:
    """The service's own schedule, else its owning team's."""
    return await gateway.ask(caller, WhoIsOnCall(service=service, at=at), OnCallNow)


@router.get("/schedules/{name}/shifts", response_model=ShiftList,
            summary="A schedule's turns and gaps")
async def shifts(caller: CallerDep, gateway: GatewayDep, name: ScheduleName,
                 start: datetime | None = None, end: datetime | None = None) -> ShiftList:
    """From ``start`` (default now) to ``end`` (default two weeks on, at most 92 days)."""
    return await gateway.ask(caller, GetShifts(schedule=name, start=start, end=end),
                             ShiftList)


@router.get("/schedules/{name}/calendar.ics", response_class=Response,
            summary="A schedule as iCalendar", responses={200: {
                "content": {"text/calendar": {}}, "description": "RFC 5545"}})
async def ics(caller: CallerDep, gateway: GatewayDep, name: ScheduleName,
              start: datetime | None = None, end: datetime | None = None) -> Response:
    """The turns from ``start`` to ``end`` as calendar events, for a calendar app."""
    found = await gateway.ask(caller, GetShifts(schedule=name, start=start, end=end),
                              ShiftList)
    return Response(found.calendar, media_type="text/calendar; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{name}.ics"'})


@router.post("/schedules/{name}/overrides", response_model=OverrideView, status_code=201,
             summary="Take a schedule for a while")
async def override(caller: CallerDep, gateway: GatewayDep, name: ScheduleName,
                   body: OverrideBody) -> OverrideView:
    """``user`` is on call from ``start`` to ``end`` (times with their offset) whatever the
    layers say. Takes ``oncall.override``."""
    return await gateway.ask(caller, CreateOverride(schedule=name, **body.model_dump()),
                             OverrideView)


@router.delete("/overrides/{override_id}", response_model=OverrideView,
               summary="Remove an override")
async def remove(caller: CallerDep, gateway: GatewayDep,
                 override_id: OverrideId) -> OverrideView:
    return await gateway.ask(caller, RemoveOverride(override_id=override_id), OverrideView)
