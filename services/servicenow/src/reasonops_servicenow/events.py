"""The sync's events: a record created (or taken over), updated, ServiceNow's changes
applied, and a failure with its field."""

from __future__ import annotations

from datetime import datetime

from reasonops_contracts import Envelope
from reasonops_contracts.servicenow import (
    Direction,
    ServiceNowRecordCreated,
    ServiceNowRecordUpdated,
    ServiceNowSyncFailed,
    ServiceNowUpdateApplied,
)

from .store import Link

SOURCE = "servicenow"


def created(link: Link, at: datetime, *, adopted: bool) -> Envelope:
    return Envelope.wrap(ServiceNowRecordCreated(
        incident_id=link.incident_id, sys_id=link.sys_id or "", number=link.number or "",
        created_at=at, adopted=adopted), source=SOURCE, subject=link.incident_id)


def updated(link: Link, fields: list[str], notes: int, at: datetime) -> Envelope:
    return Envelope.wrap(ServiceNowRecordUpdated(
        incident_id=link.incident_id, sys_id=link.sys_id or "", number=link.number or "",
        fields=sorted(fields), work_notes=notes, updated_at=at),
        source=SOURCE, subject=link.incident_id)


def applied(link: Link, changes: list[str], by: str, via: str, at: datetime) -> Envelope:
    return Envelope.wrap(ServiceNowUpdateApplied(
        incident_id=link.incident_id, sys_id=link.sys_id or "", number=link.number or "",
        changes=changes, updated_by=by, via=via,  # type: ignore[arg-type]
        applied_at=at), source=SOURCE, subject=link.incident_id)


def failed(link: Link | None, direction: Direction, field_: str | None, problem: str,
           at: datetime) -> Envelope:
    return Envelope.wrap(ServiceNowSyncFailed(
        incident_id=link.incident_id if link else None, sys_id=link.sys_id if link else None,
        direction=direction, field=field_, problem=problem[:1024], failed_at=at),
        source=SOURCE, subject=link.incident_id if link else SOURCE)
