"""CloudEvents 1.0 over HTTP (structured, batch and binary modes) and normalisation. Pure.

The event's ``type`` is the alert name, ``subject`` the resource, ``time`` when it
started. ``data``, when it is an object, is read like a ReasonOps event: ``status``
(firing|resolved), ``severity``, ``service``, ``resource``, ``summary``,
``description``, ``labels``, ``annotations``, ``fingerprint``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from reasonops_contracts import limits
from reasonops_contracts.ingest import AlertStatus, EventAccepted

from .domain import (
    Sender,
    canonical_severity,
    identifying_labels,
    label_fingerprint,
    original_text,
)
from .formats import ROOT_FIELD, PayloadError, Problem, payload_error, too_many

STRUCTURED = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"
HEADER_PREFIX = "ce-"
_ATTR = 1024


class CloudEvent(BaseModel):
    """One event; extension attributes are allowed and kept."""

    model_config = ConfigDict(frozen=True, extra="allow")

    specversion: Literal["1.0"]
    id: str = Field(min_length=1, max_length=_ATTR)
    source: str = Field(min_length=1, max_length=_ATTR)
    type: str = Field(min_length=1, max_length=256)
    subject: str | None = Field(default=None, max_length=_ATTR)
    time: AwareDatetime | None = None
    datacontenttype: str | None = Field(default=None, max_length=256)
    dataschema: str | None = Field(default=None, max_length=2048)
    data: Any = None


class AlertData(BaseModel):
    """The alert fields ReasonOps reads from ``data``; anything else in it is kept as is."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    status: AlertStatus = "firing"
    severity: str | None = Field(default=None, max_length=64)
    service: str | None = Field(default=None, max_length=256)
    resource: str | None = Field(default=None, max_length=512)
    summary: str | None = Field(default=None, max_length=1024)
    description: str | None = Field(default=None, max_length=8192)
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    fingerprint: str | None = Field(default=None, min_length=1, max_length=128)


_BATCH = TypeAdapter(list[CloudEvent])
_DATA = TypeAdapter(AlertData)


def parse_structured(raw: bytes) -> list[CloudEvent]:
    try:
        return [_with_alert_data(CloudEvent.model_validate_json(raw), "data")]
    except ValidationError as exc:
        raise payload_error(exc) from None


def parse_batch(raw: bytes) -> list[CloudEvent]:
    try:
        events = _BATCH.validate_json(raw)
    except ValidationError as exc:
        raise payload_error(exc) from None
    if not events:
        raise PayloadError("invalid payload", [
            Problem(field=ROOT_FIELD, message="the batch holds no events")])
    if len(events) > limits.ALERTS_PER_REQUEST:
        raise too_many(len(events))
    return [_with_alert_data(e, f"{i}.data") for i, e in enumerate(events)]


def parse_binary(headers: Mapping[str, str], raw: bytes) -> list[CloudEvent]:
    """Attributes from ``ce-*`` headers, ``data`` from the (JSON) body."""
    attributes: dict[str, Any] = {name[len(HEADER_PREFIX):]: value
                                  for name, value in headers.items()
                                  if name.lower().startswith(HEADER_PREFIX)}
    try:
        data = TypeAdapter(Any).validate_json(raw) if raw.strip() else None
    except ValidationError as exc:
        raise payload_error(exc) from None
    try:
        event = CloudEvent.model_validate({**attributes, "data": data,
                                           "datacontenttype": headers.get("content-type")})
    except ValidationError as exc:
        error = payload_error(exc)
        error.problems[:] = [Problem(field=f"{HEADER_PREFIX}{p.field}", message=p.message)
                             for p in error.problems]
        raise error from None
    return [_with_alert_data(event, "(body)")]


def _with_alert_data(event: CloudEvent, where: str) -> CloudEvent:
    """Check ``data`` as alert fields now, so a bad one is a 422 naming it."""
    if isinstance(event.data, dict):
        try:
            _DATA.validate_python(event.data)
        except ValidationError as exc:
            error = payload_error(exc)
            error.problems[:] = [Problem(field=f"{where}.{p.field}", message=p.message)
                                 for p in error.problems]
            raise error from None
    return event


def acceptance_id(integration: str | None, event: CloudEvent) -> str:
    """CloudEvents' own identity: ``source`` + ``id`` (per integration)."""
    key = f"ce\n{integration or ''}\n{event.source}\n{event.id}"
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def to_event(event: CloudEvent, *, received_at: datetime, sender: Sender) -> EventAccepted:
    data = (_DATA.validate_python(event.data) if isinstance(event.data, dict)
            else AlertData())
    labels = data.labels
    service = sender.service(labels, data.service)
    resource = sender.resource(labels, data.resource or event.subject)
    identity = identifying_labels(event.type, {**labels, "ce_source": event.source},
                                  service=service, resource=resource)
    severity = canonical_severity(data.severity) if data.severity else sender.severity(labels)
    annotations = dict(data.annotations)
    if not isinstance(event.data, dict) and event.data is not None:
        annotations["data"] = original_text(str(event.data))
    return EventAccepted(
        fingerprint=data.fingerprint or label_fingerprint(identity), status=data.status,
        name=event.type, severity=severity, service=service, resource=resource,
        summary=data.summary or event.type, description=data.description,
        labels=sender.enrich(labels), annotations=annotations, starts_at=event.time,
        received_at=received_at, source_format="cloudevents", source=event.source,
        integration=sender.integration,
        original=original_text(event.model_dump_json(exclude_none=True)))
