"""The wire formats ingest accepts, validated at the edge.

``parse`` turns raw bytes into typed payloads or raises ``PayloadError`` naming
every offending field, so the HTTP and NATS paths reject input the same way.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
)
from pydantic_core import ErrorDetails

from reasonops_contracts import limits
from reasonops_contracts.ingest import AlertStatus, NativeEvent

_M = TypeVar("_M", bound=BaseModel)

# Alertmanager's Go zero time: the alert has no such time yet.
_GO_ZERO_TIME = "0001-01-01"
ROOT_FIELD = "(root)"


class Format(StrEnum):
    """A payload format; the value is also the ``source_format`` of accepted events."""

    ALERTMANAGER = "alertmanager"
    EVENT = "event"
    GRAFANA = "grafana"
    PAGERDUTY = "pagerduty"
    CLOUDEVENTS = "cloudevents"
    CHANGE = "change"
    HEARTBEAT = "heartbeat"


class Problem(BaseModel):
    """One offending field: a dotted path into the body and what is wrong with it."""

    model_config = ConfigDict(frozen=True)

    field: str
    message: str


class PayloadError(ValueError):
    """A body that can never be accepted.

    ``reason`` is the metric label: ``malformed_json`` (not JSON at all),
    ``invalid_payload`` (JSON of the wrong shape) or ``too_large``.
    """

    def __init__(self, error: str, problems: list[Problem], *,
                 reason: str = "invalid_payload") -> None:
        super().__init__(f"{error}: " + "; ".join(f"{p.field}: {p.message}" for p in problems))
        self.error = error
        self.problems = problems
        self.reason = reason

    @property
    def malformed(self) -> bool:
        return self.reason == "malformed_json"


class AlertmanagerAlert(BaseModel):
    """One alert of an Alertmanager webhook; unknown fields are ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    status: AlertStatus
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: AwareDatetime | None = Field(default=None, alias="startsAt")
    ends_at: AwareDatetime | None = Field(default=None, alias="endsAt")
    generator_url: str | None = Field(default=None, alias="generatorURL")
    fingerprint: str | None = Field(default=None, max_length=128)

    @field_validator("labels")
    @classmethod
    def _has_alertname(cls, labels: dict[str, str]) -> dict[str, str]:
        if not labels.get("alertname", "").strip():
            raise ValueError("labels must include a non-empty 'alertname'")
        return labels

    @field_validator("starts_at", "ends_at", mode="before")
    @classmethod
    def _zero_time_is_unset(cls, value: Any) -> Any:
        if isinstance(value, str) and value.startswith(_GO_ZERO_TIME):
            return None
        if isinstance(value, datetime) and value.year == 1:
            return None
        return value

    @field_validator("fingerprint", mode="before")
    @classmethod
    def _blank_fingerprint_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value


class AlertmanagerWebhook(BaseModel):
    """Prometheus Alertmanager webhook body, version "4" (Grafana's "1" is a superset)."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    version: str | None = None
    group_key: str | None = Field(default=None, alias="groupKey")
    truncated_alerts: int = Field(default=0, ge=0, alias="truncatedAlerts")
    status: AlertStatus | None = None
    receiver: str | None = None
    group_labels: dict[str, str] = Field(default_factory=dict, alias="groupLabels")
    common_labels: dict[str, str] = Field(default_factory=dict, alias="commonLabels")
    common_annotations: dict[str, str] = Field(default_factory=dict,
                                               alias="commonAnnotations")
    external_url: str | None = Field(default=None, alias="externalURL")
    alerts: list[AlertmanagerAlert] = Field(min_length=1, max_length=limits.ALERTS_PER_REQUEST)


class GrafanaAlert(AlertmanagerAlert):
    """A Grafana alert: Alertmanager's fields plus links and the evaluated values."""

    silence_url: str | None = Field(default=None, alias="silenceURL")
    dashboard_url: str | None = Field(default=None, alias="dashboardURL")
    panel_url: str | None = Field(default=None, alias="panelURL")
    image_url: str | None = Field(default=None, alias="imageURL")
    values: dict[str, float | None] | None = None
    value_string: str | None = Field(default=None, alias="valueString")
    rule_uid: str | None = Field(default=None, alias="ruleUID")


class GrafanaWebhook(AlertmanagerWebhook):
    """Grafana alerting webhook body, version "1"."""

    alerts: list[GrafanaAlert] = Field(  # type: ignore[assignment]
        min_length=1, max_length=limits.ALERTS_PER_REQUEST)
    org_id: int | None = Field(default=None, alias="orgId")
    title: str | None = None
    state: str | None = None
    message: str | None = None
    app_version: str | None = Field(default=None, alias="appVersion")


_EVENTS = TypeAdapter(list[NativeEvent])


def validate_json(model: type[_M], raw: bytes) -> _M:
    """``model`` from a JSON body, or a ``PayloadError`` naming every bad field."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise payload_error(exc) from None


def parse_alertmanager(raw: bytes) -> AlertmanagerWebhook:
    return validate_json(AlertmanagerWebhook, raw)


def parse_grafana(raw: bytes) -> GrafanaWebhook:
    return validate_json(GrafanaWebhook, raw)


def parse_events(raw: bytes) -> list[NativeEvent]:
    """One ``NativeEvent`` object, or a non-empty JSON array of them."""
    try:
        if raw.lstrip()[:1] == b"[":
            events = _EVENTS.validate_json(raw)
            if not events:
                raise PayloadError("invalid payload", [
                    Problem(field=ROOT_FIELD, message="the array holds no events")])
            if len(events) > limits.ALERTS_PER_REQUEST:
                raise too_many(len(events))
            return events
        return [NativeEvent.model_validate_json(raw)]
    except ValidationError as exc:
        raise payload_error(exc) from None


def parse(fmt: Format, raw: bytes) -> AlertmanagerWebhook | list[NativeEvent]:
    """Validate ``raw`` as ``fmt``; raises ``PayloadError`` listing every problem."""
    if fmt is Format.ALERTMANAGER:
        return parse_alertmanager(raw)
    if fmt is Format.GRAFANA:
        return parse_grafana(raw)
    return parse_events(raw)


def problems_of(exc: ValidationError) -> list[Problem]:
    """Every error pydantic found, as a dotted field path (wire names) and a message."""
    return [Problem(field=_field(err), message=_message(err)) for err in exc.errors()]


def payload_error(exc: ValidationError) -> PayloadError:
    """``PayloadError`` for a pydantic error: malformed JSON or the wrong shape."""
    problems = problems_of(exc)
    if any(err["type"] == "json_invalid" for err in exc.errors()):
        return PayloadError("malformed JSON", problems, reason="malformed_json")
    return PayloadError("invalid payload", problems)


def _field(err: ErrorDetails) -> str:
    return ".".join(str(part) for part in err["loc"]) or ROOT_FIELD


def _message(err: ErrorDetails) -> str:
    ctx = err.get("ctx") or {}
    if err["type"] == "value_error" and "error" in ctx:
        return str(ctx["error"])
    if err["type"] == "json_invalid" and "error" in ctx:
        return f"not valid JSON: {ctx['error']}"
    return err["msg"]


def too_many(count: int) -> PayloadError:
    return PayloadError("too many events", [Problem(
        field=ROOT_FIELD, message=f"{count} events in one request; at most "
        f"{limits.ALERTS_PER_REQUEST} (send the rest in further requests)")])


def too_large(limit: int) -> PayloadError:
    return PayloadError("payload too large", [
        Problem(field=ROOT_FIELD, message=f"the body exceeds the limit of {limit} bytes")],
        reason="too_large")
