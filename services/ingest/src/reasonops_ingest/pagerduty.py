"""PagerDuty Events API v2: the wire models, the dedup_key state machine, normalisation.

Pure: no I/O. A ``dedup_key`` names an alert *generation*: triggers while it is
open add to it, acknowledge marks it, resolve ends it, and the next trigger on the
same key starts generation n+1. The fingerprint is a hash of (integration,
dedup_key, generation), so the incident service sees a new fingerprint, and opens a
new incident, for a trigger after a resolve.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from reasonops_contracts.ingest import ChangeAccepted, EventAccepted

from .domain import Sender, label_fingerprint, original_text
from .formats import PayloadError, Problem, validate_json

ROUTING_KEY_LENGTH = 32
Action = Literal["trigger", "acknowledge", "resolve"]
KeyStatus = Literal["triggered", "acknowledged", "resolved"]
_TEXT = 1024


class PagerDutyPayload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    summary: str = Field(min_length=1, max_length=_TEXT)
    source: str = Field(min_length=1, max_length=_TEXT)
    severity: Literal["critical", "error", "warning", "info"]
    timestamp: AwareDatetime | None = Field(default=None, strict=True)  # ISO 8601 text only
    component: str | None = Field(default=None, max_length=_TEXT)
    group: str | None = Field(default=None, max_length=_TEXT)
    class_: str | None = Field(default=None, alias="class", max_length=_TEXT)
    custom_details: dict[str, Any] | None = None


class PagerDutyLink(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    href: str = Field(max_length=2048)
    text: str | None = Field(default=None, max_length=_TEXT)


class PagerDutyEvent(BaseModel):
    """``POST /v2/enqueue``: trigger needs ``payload``; acknowledge and resolve a ``dedup_key``."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    routing_key: str = Field(min_length=ROUTING_KEY_LENGTH, max_length=ROUTING_KEY_LENGTH)
    event_action: Action
    dedup_key: str | None = Field(default=None, min_length=1, max_length=255)
    payload: PagerDutyPayload | None = None
    images: list[dict[str, Any]] | None = None
    links: list[PagerDutyLink] | None = None
    client: str | None = Field(default=None, max_length=_TEXT)
    client_url: str | None = Field(default=None, max_length=2048)

    @model_validator(mode="after")
    def _action_needs(self) -> PagerDutyEvent:
        if self.event_action == "trigger" and self.payload is None:
            raise ValueError("payload is required for event_action 'trigger'")
        if self.event_action != "trigger" and self.dedup_key is None:
            raise ValueError(f"dedup_key is required for event_action '{self.event_action}'")
        return self


class ChangePayload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    summary: str = Field(min_length=1, max_length=_TEXT)
    source: str | None = Field(default=None, max_length=_TEXT)
    timestamp: AwareDatetime | None = Field(default=None, strict=True)
    custom_details: dict[str, Any] | None = None


class PagerDutyChange(BaseModel):
    """``POST /v2/change/enqueue``: a deploy or configuration change."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    routing_key: str = Field(min_length=ROUTING_KEY_LENGTH, max_length=ROUTING_KEY_LENGTH)
    payload: ChangePayload
    links: list[PagerDutyLink] | None = None
    images: list[dict[str, Any]] | None = None


def parse_event(raw: bytes) -> PagerDutyEvent:
    return validate_json(PagerDutyEvent, raw)


def parse_change(raw: bytes) -> PagerDutyChange:
    return validate_json(PagerDutyChange, raw)


def error_strings(exc: PayloadError) -> list[str]:
    """PagerDuty's ``errors``: one ``field: problem`` string each."""
    return [f"{p.field}: {p.message}" for p in exc.problems]


def request_id(integration: str, request: BaseModel) -> str:
    """The sender's identity of a request: the same request (key aside) gives the same id."""
    body = request.model_dump_json(exclude={"routing_key"}, by_alias=True)
    return hashlib.sha256(f"{integration}\n{body}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class KeyState:
    generation: int
    status: KeyStatus
    last_request: str


@dataclass(frozen=True)
class Step:
    """What a request does: the key's next state, and the alert status to publish (if any)."""

    state: KeyState | None
    publish: Literal["firing", "resolved"] | None
    changed: bool


def step(action: Action, state: KeyState | None, request: str) -> Step:
    """Apply ``action`` to a dedup_key in ``state``. A retried request (same id as the
    last one applied) repeats its effect without changing the state again."""
    if state is not None and state.last_request == request:
        publish = {"trigger": "firing", "resolve": "resolved"}.get(action)
        return Step(state, publish, changed=False)  # type: ignore[arg-type]
    open_ = state is not None and state.status != "resolved"
    if action == "trigger":
        if state is not None and open_:
            return Step(KeyState(state.generation, state.status, request), "firing", True)
        generation = state.generation + 1 if state is not None else 1
        return Step(KeyState(generation, "triggered", request), "firing", True)
    if state is None or not open_:
        return Step(state, None, changed=False)  # nothing open under that key
    status: KeyStatus = "acknowledged" if action == "acknowledge" else "resolved"
    return Step(KeyState(state.generation, status, request),
                "resolved" if action == "resolve" else None, True)


def fingerprint(integration: str, dedup_key: str, generation: int) -> str:
    return label_fingerprint({"integration": integration, "dedup_key": dedup_key,
                              "generation": str(generation)})


def to_event(event: PagerDutyEvent, *, dedup_key: str, generation: int,
             status: Literal["firing", "resolved"], received_at: datetime, sender: Sender,
             raw: str) -> EventAccepted:
    integration = sender.integration or ""
    p = event.payload
    labels = {"dedup_key": dedup_key}
    annotations: dict[str, str] = {}
    if p is not None:
        labels |= {k: v for k, v in (("source", p.source), ("component", p.component),
                                     ("group", p.group), ("class", p.class_)) if v}
        for key, value in (p.custom_details or {}).items():
            annotations[f"custom_details.{key}"] = (value if isinstance(value, str)
                                                    else json.dumps(value))
    if event.client:
        annotations["client"] = event.client
    if event.client_url:
        annotations["client_url"] = event.client_url
    summary = p.summary if p is not None else f"{event.event_action} for {dedup_key}"
    service = sender.service(labels, _first_mapped(labels, sender.mapping.service)
                             or (p.group if p else None))
    resource = sender.resource(labels, _first_mapped(labels, sender.mapping.resource)
                               or (p.source if p else None))
    return EventAccepted(
        fingerprint=fingerprint(integration, dedup_key, generation), status=status,
        name=(p.class_ or p.component or "pagerduty") if p else "pagerduty",
        severity=p.severity if p else "warning", service=service, resource=resource,
        summary=summary, labels=sender.enrich(labels), annotations=annotations,
        starts_at=p.timestamp if p else None,
        ends_at=received_at if status == "resolved" else None, received_at=received_at,
        source_format="pagerduty", source=event.client or "pagerduty",
        generator_url=event.client_url, integration=sender.integration,
        original=original_text(raw))


def to_change(change: PagerDutyChange, *, change_id: str, received_at: datetime,
              sender: Sender) -> ChangeAccepted:
    p = change.payload
    return ChangeAccepted(
        change_id=change_id, summary=p.summary, source=p.source,
        service=sender.default_service, timestamp=p.timestamp or received_at,
        received_at=received_at, labels=dict(sender.static_labels),
        custom_details={k: v if isinstance(v, str) else json.dumps(v)
                        for k, v in (p.custom_details or {}).items()},
        links=[link.href for link in change.links or []], integration=sender.integration)


def _first_mapped(labels: dict[str, str], names: list[str]) -> str | None:
    for name in names:
        if labels.get(name, "").strip():
            return labels[name]
    return None


def invalid_routing_key() -> PayloadError:
    return PayloadError("invalid event", [Problem(field="routing_key",
                                                  message="Invalid routing key")])
