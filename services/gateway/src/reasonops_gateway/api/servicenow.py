"""``/api/servicenow``: how the ServiceNow sync stands, an incident's ServiceNow record,
a resync, and the inbound endpoint a ServiceNow Business Rule calls when a record
changes (with an API token of its own, allowed ``servicenow.inbound``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from reasonops_contracts.incidents import INCIDENT_ID_PATTERN
from reasonops_contracts.servicenow import (
    SYS_ID_PATTERN,
    GetServiceNowStatus,
    InboundAccepted,
    ResyncResult,
    ResyncServiceNow,
    ServiceNowInbound,
    ServiceNowLink,
    ServiceNowStatus,
)

from .bodies import body_of
from .context import CallerDep, GatewayDep

router = APIRouter(prefix="/api/servicenow", tags=["servicenow"])
if TYPE_CHECKING:  # the bodies are made at import; to mypy, any model
    ResyncBody = BaseModel
else:
    ResyncBody = body_of(ResyncServiceNow)


class InboundBody(BaseModel):
    """What a Business Rule sends: the record's ``sys_id``; the rest of the record, if
    sent, is not read."""

    model_config = ConfigDict(extra="ignore")

    sys_id: str = Field(pattern=SYS_ID_PATTERN, description="The record's sys_id")

IncidentId = Annotated[str, Path(pattern=INCIDENT_ID_PATTERN, description="INC0000001")]


@router.get("", response_model=ServiceNowStatus, summary="How the ServiceNow sync stands")
async def status(caller: CallerDep, gateway: GatewayDep) -> ServiceNowStatus:
    """The instance, the rules choosing incidents, records linked, pushes waiting, the
    last poll and the failures (of incidents the caller's roles cover)."""
    return await gateway.ask(caller, GetServiceNowStatus(), ServiceNowStatus)


@router.get("/incidents/{incident_id}", response_model=ServiceNowLink,
            summary="An incident's ServiceNow record")
async def link(caller: CallerDep, gateway: GatewayDep, incident_id: IncidentId
               ) -> ServiceNowLink:
    """Its ``sys_id`` and number, when it was last written and read, the record's fields
    as ServiceNow last had them, and its last failure (field and problem)."""
    found = await gateway.ask(caller, GetServiceNowStatus(incident_id=incident_id),
                              ServiceNowStatus)
    assert found.link is not None
    return found.link


@router.post("/resync", response_model=ResyncResult, summary="Push incidents to ServiceNow now")
async def resync(caller: CallerDep, gateway: GatewayDep, body: ResyncBody) -> ResyncResult:
    """Each incident is written to its record (created when a rule chooses it, or with
    ``force``) and the record read back. Takes ``servicenow.resync``."""
    return await gateway.ask(caller, ResyncServiceNow(**body.model_dump()), ResyncResult)


@router.post("/inbound", response_model=InboundAccepted, status_code=202,
             summary="ServiceNow says a record changed")
async def inbound(caller: CallerDep, gateway: GatewayDep, body: InboundBody
                  ) -> InboundAccepted:
    """For a Business Rule's outbound REST message: ``{"sys_id": "<32 hex>"}`` (other
    fields of the record are ignored: the sync reads it from ServiceNow). Takes
    ``servicenow.inbound``."""
    return await gateway.ask(caller, ServiceNowInbound(sys_id=body.sys_id), InboundAccepted)
