"""Ingest: ReasonOps' own event format and the normalised, accepted event."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from . import subjects
from .messages import Event

Severity = Literal["critical", "error", "warning", "info"]
"""The canonical severity scale (PagerDuty's four levels); every format maps onto it."""

AlertStatus = Literal["firing", "resolved"]
SourceFormat = Literal["alertmanager", "event"]


class NativeEvent(BaseModel):
    """ReasonOps' own JSON event, for senders that speak no monitoring format.

    ``POST /v1/events`` takes one of these (or a list); it may also be published on
    ``itsm.ingest.raw.event``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=256, description="What is wrong, e.g. DiskFull")
    status: AlertStatus = "firing"
    severity: Severity = "warning"
    service: str | None = Field(default=None, max_length=256)
    resource: str | None = Field(default=None, max_length=512)
    summary: str | None = Field(default=None, max_length=1024)
    description: str | None = Field(default=None, max_length=8192)
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    fingerprint: str | None = Field(default=None, min_length=1, max_length=128)
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    source: str | None = Field(default=None, max_length=256, description="Sending tool")


class EventAccepted(Event):
    """One alert, normalised and fingerprinted, accepted by ingest."""

    TYPE = "itsm.ingest.event.accepted.v1"
    SUBJECT = subjects.INGEST_EVENT_ACCEPTED

    fingerprint: str
    status: AlertStatus
    name: str
    severity: Severity
    service: str | None = None
    resource: str | None = None
    summary: str
    description: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    received_at: datetime
    source_format: SourceFormat
    source: str | None = None
    generator_url: str | None = None
    group_key: str | None = None


class ChangeAccepted(Event):
    """A change (deploy, configuration change) reported by a sender, kept for root-cause analysis.

    PagerDuty's change events (``POST /v2/change/enqueue``) and other formats' change
    notifications normalise to this.
    """

    TYPE = "itsm.ingest.change.accepted.v1"
    SUBJECT = subjects.INGEST_CHANGE_ACCEPTED

    change_id: str
    summary: str
    source: str | None = None
    service: str | None = None
    resource: str | None = None
    timestamp: datetime = Field(description="When the change happened, as sent")
    received_at: datetime
    labels: dict[str, str] = Field(default_factory=dict)
    custom_details: dict[str, str] = Field(default_factory=dict)
    links: list[str] = Field(default_factory=list)
    integration: str | None = None
