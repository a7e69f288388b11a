"""Composition root of the triage agent."""

from __future__ import annotations

from reasonops_runtime import Clock, Service, ServiceSettings

from .handlers import CONSUMER, TriageAgent, TriageMetrics
from .providers import Provider, provider_named
from .store import metadata


class TriageSettings(ServiceSettings):
    service_name: str = "agent-triage"
    provider: str = "rules"


def build_service(settings: TriageSettings | None = None, *, clock: Clock | None = None,
                  provider: Provider | None = None) -> Service:
    settings = settings or TriageSettings()
    service = Service("agent-triage", settings, metadata=(metadata,), clock=clock)
    agent = TriageAgent(provider or provider_named(settings.provider), service.clock,
                        TriageMetrics(service.registry))
    service.consume(CONSUMER, agent.router())
    return service
