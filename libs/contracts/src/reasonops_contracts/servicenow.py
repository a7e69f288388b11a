"""ServiceNow: incidents kept in step with the incident table of a ServiceNow instance.

A rule chooses the incidents to sync; each gets one ServiceNow record (found again by its
``correlation_id``, the incident's number), updated as the incident changes; what people
change in ServiceNow (state, assignment, impact and urgency, work notes) comes back as
commands on the incident."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from . import subjects
from .incidents import INCIDENT_ID_PATTERN
from .messages import Actor, Command, Event, Query, View

SYS_ID_PATTERN = r"^[0-9a-f]{32}$"
Direction = Literal["outbound", "inbound"]
IncidentNumber = Annotated[str, Field(pattern=INCIDENT_ID_PATTERN)]


class ServiceNowRecordCreated(Event):
    """A ServiceNow record now stands for the incident (created, or an existing one with
    the incident's ``correlation_id`` taken over)."""

    SUBJECT = subjects.SERVICENOW_RECORD_CREATED

    incident_id: str
    sys_id: str
    number: str
    created_at: datetime
    adopted: bool = Field(default=False, description=(
        "True: the record existed already (an earlier attempt created it) and was taken"))


class ServiceNowRecordUpdated(Event):
    """ReasonOps changed fields of the incident's ServiceNow record."""

    SUBJECT = subjects.SERVICENOW_RECORD_UPDATED

    incident_id: str
    sys_id: str
    number: str
    fields: list[str] = Field(description="The ServiceNow fields written")
    work_notes: int = Field(default=0, description="Timeline entries added as work notes")
    updated_at: datetime


class ServiceNowUpdateApplied(Event):
    """A change made in ServiceNow, applied to the incident."""

    SUBJECT = subjects.SERVICENOW_UPDATE_APPLIED

    incident_id: str
    sys_id: str
    number: str
    changes: list[str] = Field(description="What changed, as people read it")
    updated_by: str = Field(description="ServiceNow's sys_updated_by")
    via: Literal["poll", "inbound", "resync"]
    applied_at: datetime


class ServiceNowSyncFailed(Event):
    """A record could not be kept in step: the field and the problem, as ServiceNow or
    the mapping said. Nothing of it was lost; a later change or a resync tries again."""

    SUBJECT = subjects.SERVICENOW_SYNC_FAILED

    incident_id: str | None = None
    sys_id: str | None = None
    direction: Direction
    field: str | None = Field(default=None, description="The field at fault, if one is")
    problem: str
    failed_at: datetime


class ResyncServiceNow(Command):
    """Push each incident to ServiceNow now (creating its record if the rules choose it,
    or, with ``force``, whatever they say) and read its record back. Takes
    ``servicenow.resync``."""

    SUBJECT = subjects.SERVICENOW_CMD_RESYNC

    actor: Actor = ""
    incident_ids: list[IncidentNumber] = Field(min_length=1, max_length=100)
    force: bool = Field(default=False, description="Create the record even if no rule "
                        "chooses the incident")


class ServiceNowInbound(Command):
    """ServiceNow says a record changed (a Business Rule's outbound REST message through
    the gateway). Only the ``sys_id`` is taken: the service reads the record from
    ServiceNow itself. Takes ``servicenow.inbound``."""

    SUBJECT = subjects.SERVICENOW_CMD_INBOUND

    actor: Actor = ""
    sys_id: str = Field(pattern=SYS_ID_PATTERN)


class GetServiceNowStatus(Query):
    """How the sync stands: the instance, the last poll, counts and recent failures; with
    ``incident_id``, that incident's record. Readable by any principal with a role."""

    SUBJECT = subjects.SERVICENOW_QUERY_STATUS

    actor: Actor = ""
    incident_id: str | None = Field(default=None, pattern=INCIDENT_ID_PATTERN)


class ServiceNowLink(View):
    incident_id: str
    sys_id: str | None = Field(description="None: not created yet")
    number: str | None = None
    linked_at: datetime | None = None
    pushed_at: datetime | None = None
    pulled_at: datetime | None = None
    remote: dict[str, str] = Field(default_factory=dict, description=(
        "The record's mapped fields as ServiceNow last had them"))
    work_notes_pushed: int = 0
    failed_field: str | None = None
    failure: str | None = None
    failed_at: datetime | None = None


class ServiceNowStatus(View):
    configured: bool
    instance: str | None = None
    auth: Literal["basic", "oauth", "none"] = "none"
    rules: list[str] = Field(default_factory=list, description="Which incidents are synced")
    linked: int = 0
    pending: int = Field(default=0, description="Incidents with a push waiting")
    failing: int = 0
    watermark: str | None = Field(default=None, description=(
        "sys_updated_on of the newest record read back"))
    last_poll_at: datetime | None = None
    last_poll_error: str | None = None
    failures: list[ServiceNowLink] = Field(default_factory=list)
    link: ServiceNowLink | None = None


class ResyncResult(View):
    items: list[ServiceNowLink]


class InboundAccepted(View):
    """The record will be read from ServiceNow and applied (durably: a restart keeps it)."""

    sys_id: str
    accepted_at: datetime
