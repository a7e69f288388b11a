"""Topology-aware correlation from the service catalog's ``depends_on``. Pure.

An alert on a service others depend on, while a dependent has an open incident with an
alert inside the window, is that incident's probable cause; an incident that opens
while a dependency of its service has one open names that one as its probable cause.
Among several candidates the oldest incident wins.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from reasonops_contracts.catalog import ServiceCatalog

from .correlation import within
from .domain import Incident

OpenOf = Callable[[Iterable[str]], list[Incident]]
"""The open incidents of some services."""


def dependent_incident(catalog: ServiceCatalog | None, open_of: OpenOf, service: str | None,
                       window: int, at: datetime) -> Incident | None:
    """The open incident, of a service that depends on ``service``, that this alert
    probably caused."""
    if catalog is None or not service:
        return None
    dependents = catalog.dependents_of(service)
    if not dependents:
        return None
    found = [i for i in open_of(dependents)
             if i.last_alert_at is not None and within(i.last_alert_at, at, window)]
    return min(found, key=lambda i: i.incident_id) if found else None


def cause_of(catalog: ServiceCatalog | None, open_of: OpenOf, incident: Incident,
             window: int, at: datetime) -> Incident | None:
    """The open incident of a service ``incident``'s service depends on, if any."""
    if catalog is None or not incident.service:
        return None
    dependencies = catalog.dependencies_of(incident.service)
    if not dependencies:
        return None
    found = [i for i in open_of(dependencies)
             if i.incident_id != incident.incident_id and i.last_alert_at is not None
             and within(i.last_alert_at, at, window)]
    return min(found, key=lambda i: i.incident_id) if found else None


def probable_cause(service: str | None, incident_id: str, alert: str, resource: str | None,
                   fingerprint: str, at: datetime, reason: str) -> dict[str, str]:
    """An incident's ``probable_cause`` as it is stored and shown."""
    return {"service": service or "", "incident_id": incident_id, "alert": alert,
            "resource": resource or "", "fingerprint": fingerprint,
            "detected_at": at.isoformat(), "reason": reason}


def owner_of(catalog: ServiceCatalog | None, service: str | None) -> str | None:
    """The team that owns ``service`` in the catalog, if it names one."""
    entry = catalog.get(service) if catalog is not None else None
    return entry.owner if entry else None
