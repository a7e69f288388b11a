"""Normalisation and fingerprinting. Pure: no I/O, no broker, no clock.

Every format becomes ``EventAccepted`` with the same rules:

- severity: the first of the labels ``severity``, ``priority`` mapped through
  ``SEVERITY_ALIASES`` (case-insensitive); missing or unknown -> ``warning``.
- service: label ``service``, else ``job``.
- resource: label ``instance``, else ``pod``, else ``host``.
- summary: annotation ``summary``, else ``description``, else the alert name.
- fingerprint: the sender's own when it gives one (Alertmanager does), else
  ``label_fingerprint`` of the identifying labels.
- the integration (``Sender``) may name other labels to read first for service,
  resource, severity and team, a default service and team, and static labels that
  are added where the alert has no label of that name.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from reasonops_contracts.ingest import EventAccepted, LabelMapping, NativeEvent, Severity

from .formats import AlertmanagerAlert, AlertmanagerWebhook, Format

DEFAULT_SEVERITY: Severity = "warning"
SEVERITY_LABELS = ("severity", "priority")
SERVICE_LABELS = ("service", "job")
RESOURCE_LABELS = ("instance", "pod", "host")
TEAM_LABELS = ("team",)
ORIGINAL_MAX_CHARS = 8192
FINGERPRINT_LENGTH = 16
# json.dumps with non-default options builds an encoder per call; this one is reused.
_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)

_ALIASES: dict[Severity, tuple[str, ...]] = {
    "critical": ("critical", "crit", "page", "p1", "sev1", "fatal", "emergency", "disaster"),
    "error": ("error", "err", "high", "major", "p2", "sev2"),
    "warning": ("warning", "warn", "medium", "minor", "p3", "sev3", "average"),
    "info": ("info", "informational", "notice", "low", "none", "p4", "p5", "sev4", "sev5",
             "debug", "ok"),
}
SEVERITY_ALIASES: dict[str, Severity] = {
    alias: severity for severity, aliases in _ALIASES.items() for alias in aliases
}
"""Sender severity words (lower case) -> the canonical scale critical|error|warning|info."""


@dataclass(frozen=True)
class Sender:
    """How one integration's alerts are read (the anonymous sender reads defaults only)."""

    integration: str | None = None
    mapping: LabelMapping = field(default_factory=LabelMapping)
    default_service: str | None = None
    default_team: str | None = None
    static_labels: Mapping[str, str] = field(default_factory=dict)

    def service(self, labels: Mapping[str, str], explicit: str | None = None) -> str | None:
        return (explicit or _first(labels, (*self.mapping.service, *SERVICE_LABELS))
                or self.default_service)

    def resource(self, labels: Mapping[str, str], explicit: str | None = None) -> str | None:
        return explicit or _first(labels, (*self.mapping.resource, *RESOURCE_LABELS))

    def severity(self, labels: Mapping[str, str]) -> Severity:
        return canonical_severity(_first(labels, (*self.mapping.severity, *SEVERITY_LABELS)))

    def enrich(self, labels: Mapping[str, str]) -> dict[str, str]:
        """Static labels under the alert's own; ``team`` from the alert's (mapped) labels,
        else a static ``team`` label, else the integration's default team."""
        enriched = {**self.static_labels, **labels}
        team = (_first(labels, (*self.mapping.team, *TEAM_LABELS)) or enriched.get("team")
                or self.default_team)
        if team:
            enriched["team"] = team
        return enriched


ANONYMOUS = Sender()


def original_text(raw: str) -> str:
    """The sender's payload kept for audit, cut at ``ORIGINAL_MAX_CHARS``."""
    return raw if len(raw) <= ORIGINAL_MAX_CHARS else raw[:ORIGINAL_MAX_CHARS]


def canonical_severity(value: str | None) -> Severity:
    """Map a sender's severity word onto the canonical scale; unknown or missing -> warning."""
    if value is None:
        return DEFAULT_SEVERITY
    return SEVERITY_ALIASES.get(value.strip().lower(), DEFAULT_SEVERITY)


def severity_from_labels(labels: Mapping[str, str]) -> Severity:
    return canonical_severity(_first(labels, SEVERITY_LABELS))


def label_fingerprint(labels: Mapping[str, str]) -> str:
    """A stable id for a label set: sha256 of its sorted ``[name, value]`` pairs as compact
    JSON, first 16 hex chars (the length of Alertmanager's own fingerprints).

    Independent of label order; any change of a name or value changes it.
    """
    canonical = _COMPACT.encode(sorted(labels.items()))
    return hashlib.sha256(canonical.encode()).hexdigest()[:FINGERPRINT_LENGTH]


def from_alertmanager(webhook: AlertmanagerWebhook, *, received_at: datetime,
                      sender: Sender = ANONYMOUS, fmt: Format = Format.ALERTMANAGER
                      ) -> list[EventAccepted]:
    """One accepted event per alert of the webhook, in the order they were sent.

    Grafana's webhook is the same shape; ``fmt`` says which of the two it was.
    """
    return [_alertmanager_event(alert, webhook.group_key, received_at, sender, fmt)
            for alert in webhook.alerts]


def _alertmanager_event(alert: AlertmanagerAlert, group_key: str | None,
                        received_at: datetime, sender: Sender, fmt: Format) -> EventAccepted:
    labels, annotations = alert.labels, alert.annotations
    name = labels["alertname"]
    return EventAccepted(
        fingerprint=alert.fingerprint or label_fingerprint(labels),
        status=alert.status,
        name=name,
        severity=sender.severity(labels),
        service=sender.service(labels),
        resource=sender.resource(labels),
        summary=_first(annotations, ("summary", "description")) or name,
        description=annotations.get("description"),
        labels=sender.enrich(labels),
        annotations=dict(annotations),
        starts_at=_utc(alert.starts_at),
        ends_at=_utc(alert.ends_at),
        received_at=received_at,
        source_format=fmt.value,
        source=fmt.value,
        generator_url=alert.generator_url,
        group_key=group_key,
        integration=sender.integration,
        original=original_text(alert.model_dump_json(by_alias=True, exclude_none=True)),
    )


def from_native(event: NativeEvent, *, received_at: datetime,
                sender: Sender = ANONYMOUS) -> EventAccepted:
    """A native event: explicit fields win over labels and annotations.

    Without a fingerprint the identifying labels are the event's labels plus
    ``alertname``, ``service`` and ``resource`` taken from its fields.
    """
    labels, annotations = event.labels, event.annotations
    service = sender.service(labels, event.service)
    resource = sender.resource(labels, event.resource)
    severity = (event.severity if "severity" in event.model_fields_set
                else sender.severity(labels))
    description = event.description or annotations.get("description")
    return EventAccepted(
        fingerprint=event.fingerprint or label_fingerprint(
            identifying_labels(event.name, labels, service=service, resource=resource)),
        status=event.status,
        name=event.name,
        severity=severity,
        service=service,
        resource=resource,
        summary=event.summary or annotations.get("summary") or description or event.name,
        description=description,
        labels=sender.enrich(labels),
        annotations=dict(annotations),
        starts_at=_utc(event.starts_at),
        ends_at=_utc(event.ends_at),
        received_at=received_at,
        source_format=Format.EVENT.value,
        source=event.source,
        integration=sender.integration,
        original=original_text(event.model_dump_json(exclude_unset=True)),
    )


def identifying_labels(name: str, labels: Mapping[str, str], *, service: str | None,
                       resource: str | None) -> dict[str, str]:
    """The label set a native event is fingerprinted by (fields override labels)."""
    identity = {**labels, "alertname": name}
    if service:
        identity["service"] = service
    if resource:
        identity["resource"] = resource
    return identity


def _first(values: Mapping[str, str], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = values.get(key, "").strip()
        if value:
            return value
    return None


def _utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value is not None else None
