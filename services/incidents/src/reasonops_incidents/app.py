"""Composition root of the incident service."""

from __future__ import annotations

from reasonops_contracts.ingest import EventAccepted
from reasonops_runtime import Clock, Service, ServiceSettings

from .handlers import INTAKE_CONSUMER, register_commands
from .intake import AlertIntake
from .metrics import IncidentMetrics, open_incidents
from .store import metadata


class IncidentSettings(ServiceSettings):
    service_name: str = "incidents"


def build_service(settings: IncidentSettings | None = None, *,
                  clock: Clock | None = None) -> Service:
    settings = settings or IncidentSettings()
    service = Service("incidents", settings, metadata=(metadata,), clock=clock)
    metrics = IncidentMetrics(service.registry)
    service.consume(INTAKE_CONSUMER, AlertIntake(service.clock, metrics),
                    subjects=(EventAccepted.SUBJECT,))
    register_commands(service, metrics)
    gauge = open_incidents(service.registry)
    service.refresh_every(5.0, lambda: gauge.refresh(service.store))
    return service
