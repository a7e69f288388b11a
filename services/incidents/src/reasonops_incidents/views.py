"""Incident -> the contract's read model."""

from __future__ import annotations

from reasonops_contracts.incidents import IncidentView

from .domain import Incident


def incident_view(incident: Incident) -> IncidentView:
    return IncidentView(
        incident_id=incident.incident_id,
        title=incident.title,
        state=incident.state.value,
        service=incident.service,
        resource=incident.resource,
        severity=incident.severity,  # type: ignore[arg-type]
        impact=incident.impact,
        urgency=incident.urgency,
        priority=incident.priority,
        priority_reason=incident.priority_reason,
        fingerprint=incident.fingerprint,
        alert_count=incident.alert_count,
        labels=incident.labels,
        opened_at=incident.opened_at,
        acknowledged_at=incident.acknowledged_at,
        resolved_at=incident.resolved_at,
        closed_at=incident.closed_at,
        updated_at=incident.updated_at,
        note=incident.note,
    )
