"""Composition root of the orchestrator."""

from __future__ import annotations

from reasonops_runtime import Clock, Service, ServiceSettings

from .handlers import (
    AGENTS_CONSUMER,
    INCIDENTS_CONSUMER,
    Orchestrator,
    WorkflowMetrics,
    register_queries,
)
from .metrics import workflow_instances
from .store import metadata


class OrchestratorSettings(ServiceSettings):
    service_name: str = "orchestrator"


def build_service(settings: OrchestratorSettings | None = None, *,
                  clock: Clock | None = None) -> Service:
    settings = settings or OrchestratorSettings()
    service = Service("orchestrator", settings, metadata=(metadata,), clock=clock)
    orchestrator = Orchestrator(service.clock, WorkflowMetrics(service.registry))
    # A consumer reads one stream, so incident events and agent decisions get one each.
    service.consume(INCIDENTS_CONSUMER, orchestrator.incident_router())
    service.consume(AGENTS_CONSUMER, orchestrator.agent_router())
    register_queries(service)
    gauge = workflow_instances(service.registry)
    service.refresh_every(5.0, lambda: gauge.refresh(service.store))
    return service
