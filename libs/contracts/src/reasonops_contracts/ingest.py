"""Ingest: ReasonOps' own event format and the normalised, accepted event."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from . import limits, subjects
from .messages import Actor, Command, Event, Query, View

Severity = Literal["critical", "error", "warning", "info"]
"""The canonical severity scale (PagerDuty's four levels); every format maps onto it."""

AlertStatus = Literal["firing", "resolved"]
SourceFormat = Literal["alertmanager", "event", "grafana", "pagerduty", "cloudevents",
                       "heartbeat"]


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


_CLIPPED = {"name": limits.NAME, "summary": limits.SUMMARY, "resource": limits.RESOURCE,
            "description": limits.TEXT, "original": limits.TEXT, "source": limits.URL,
            "generator_url": limits.URL, "integration": limits.NAME}


class EventAccepted(Event):
    """One alert, normalised and fingerprinted, accepted by ingest."""

    SUBJECT = subjects.INGEST_EVENT_ACCEPTED

    fingerprint: str
    status: AlertStatus
    name: str
    severity: Severity
    service: str | None = Field(default=None, max_length=limits.SERVICE)
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
    integration: str | None = Field(default=None, description="The sending integration")
    original: str | None = Field(default=None, description="The alert as the sender sent it "
                                 "(JSON, capped in size), for audit")

    @model_validator(mode="before")
    @classmethod
    def _within_limits(cls, data: Any) -> Any:
        """Every field within what storage holds (``limits``): free text cut with a
        marker, over-long keys replaced by their digest, NULs gone. ``service`` is an
        identifier: ingest refuses one that is too long before it gets here."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for name, limit in _CLIPPED.items():
            if isinstance(data.get(name), str):
                data[name] = limits.clip(data[name], limit)
        for name, limit in (("fingerprint", limits.FINGERPRINT),
                            ("group_key", limits.GROUP_KEY)):
            if isinstance(data.get(name), str):
                data[name] = limits.key(data[name], limit)
        for name in ("labels", "annotations"):
            if isinstance(data.get(name), dict):
                data[name] = limits.clip_map(data[name])
        if isinstance(data.get("service"), str):
            data["service"] = limits.clean(data["service"])
        return data


class ChangeAccepted(Event):
    """A change (deploy, configuration change) reported by a sender, kept for root-cause analysis.

    PagerDuty's change events (``POST /v2/change/enqueue``) and other formats' change
    notifications normalise to this.
    """

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


# -- Integrations: each sender has its own key, defaults and label mappings --------------

IntegrationFormat = Literal["alertmanager", "grafana", "pagerduty", "cloudevents", "event",
                            "change", "heartbeat"]
INTEGRATION_NAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,63}$"


class LabelMapping(BaseModel):
    """Which label names carry the service, resource, severity and team, tried in order
    before the built-in defaults."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    service: list[str] = Field(default_factory=list, max_length=16)
    resource: list[str] = Field(default_factory=list, max_length=16)
    severity: list[str] = Field(default_factory=list, max_length=16)
    team: list[str] = Field(default_factory=list, max_length=16)


class CreateIntegration(Command):
    """Register a sender; the reply carries its key, shown this once (only a hash is kept)."""

    SUBJECT = subjects.INGEST_CMD_CREATE_INTEGRATION

    actor: Actor = ""  # set by the answering service to the proven principal

    name: str = Field(pattern=INTEGRATION_NAME_PATTERN)
    default_service: str | None = Field(default=None, max_length=256)
    default_team: str | None = Field(default=None, max_length=256)
    formats: list[IntegrationFormat] = Field(
        default_factory=list, description="Formats this key may send; empty: all")
    label_mapping: LabelMapping = Field(default_factory=LabelMapping)
    static_labels: dict[str, str] = Field(default_factory=dict,
                                          description="Added to every alert it sends")
    rate_limit_per_second: float | None = Field(
        default=None, gt=0, description="Events per second; none: unlimited")
    burst: int | None = Field(default=None, ge=1,
                              description="Events above the rate allowed at once")


class RevokeIntegration(Command):
    SUBJECT = subjects.INGEST_CMD_REVOKE_INTEGRATION

    actor: Actor = ""  # set by the answering service to the proven principal

    name: str = Field(pattern=INTEGRATION_NAME_PATTERN)


class RotateIntegrationKey(Command):
    """Issue a new key; the old one keeps working for ``grace_seconds`` (0: refused at once)."""

    SUBJECT = subjects.INGEST_CMD_ROTATE_INTEGRATION_KEY

    actor: Actor = ""  # set by the answering service to the proven principal

    name: str = Field(pattern=INTEGRATION_NAME_PATTERN)
    grace_seconds: int = Field(default=0, ge=0, le=7 * 24 * 3600)


class ListIntegrations(Query):
    SUBJECT = subjects.INGEST_QUERY_INTEGRATIONS

    actor: Actor = ""  # set by the answering service to the proven principal

    include_revoked: bool = False


IntegrationStatus = Literal["active", "revoked"]


class IntegrationView(View):
    name: str
    status: IntegrationStatus
    key_prefix: str = Field(description="First characters of the key, to tell keys apart")
    formats: list[IntegrationFormat]
    default_service: str | None = None
    default_team: str | None = None
    label_mapping: LabelMapping
    static_labels: dict[str, str]
    rate_limit_per_second: float | None = None
    burst: int | None = None
    created_at: datetime
    rotated_at: datetime | None = None
    previous_key_valid_until: datetime | None = None
    revoked_at: datetime | None = None


class IntegrationKeyIssued(View):
    """A new key: returned by create and rotate, never readable again."""

    integration: IntegrationView
    key: str


class IntegrationList(View):
    items: list[IntegrationView]


# -- Heartbeats: a sender that must ping within an interval ------------------------------

HeartbeatStatus = Literal["ok", "missing"]


class ListHeartbeats(Query):
    SUBJECT = subjects.INGEST_QUERY_HEARTBEATS

    actor: Actor = ""  # set by the answering service to the proven principal

    integration: str | None = Field(default=None, pattern=INTEGRATION_NAME_PATTERN)


class HeartbeatView(View):
    integration: str
    name: str
    interval_seconds: int
    status: HeartbeatStatus
    last_seen_at: datetime
    due_at: datetime = Field(description="When it is declared missing without a ping")
    fingerprint: str


class HeartbeatList(View):
    items: list[HeartbeatView]
