"""Composition root of the finance service."""

from __future__ import annotations

from reasonops_runtime import Clock, Service, ServiceSettings

from .handlers import CONSUMER, FinanceMetrics, PenaltyPosting, register_queries
from .store import metadata


class FinanceSettings(ServiceSettings):
    service_name: str = "finance"


def build_service(settings: FinanceSettings | None = None, *,
                  clock: Clock | None = None) -> Service:
    settings = settings or FinanceSettings()
    service = Service("finance", settings, metadata=(metadata,), clock=clock)
    posting = PenaltyPosting(clock=service.clock, metrics=FinanceMetrics(service.registry))
    service.consume(CONSUMER, posting.router())
    register_queries(service)
    return service
