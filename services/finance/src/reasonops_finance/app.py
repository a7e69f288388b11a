"""Composition root of the finance service."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from reasonops_runtime import Clock, Service, ServiceSettings, policy_file
from reasonops_runtime.catalog_file import load_catalog
from reasonops_runtime.enforcement import Enforcer

from . import config
from .commands import FinanceCommands
from .handlers import (
    CONSUMER,
    INCIDENTS_CONSUMER,
    IncidentCosting,
    PenaltyPosting,
)
from .metrics import FinanceMetrics
from .queries import register_queries
from .store import metadata


class FinanceSettings(ServiceSettings):
    service_name: str = "finance"
    finance_config: Path | None = Field(
        default=None,
        description="REASONOPS_FINANCE_CONFIG: YAML file of cost rates (downtime per minute "
                    "by tier, responder hourly rate), cost centres and budgets")
    service_catalog: Path | None = Field(
        default=None, description="REASONOPS_SERVICE_CATALOG: service tiers for downtime "
        "cost, owners for who may read which entries")

    @field_validator("finance_config", "service_catalog", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value


def build_service(settings: FinanceSettings | None = None, *,
                  clock: Clock | None = None) -> Service:
    """A wrong rates or catalog file stops the service here, saying what is wrong."""
    settings = settings or FinanceSettings()
    rates = config.load(settings.finance_config)
    catalog = load_catalog(settings.service_catalog)
    service = Service("finance", settings, metadata=(metadata,), clock=clock)
    metrics = FinanceMetrics(service.registry)
    posting = PenaltyPosting(clock=service.clock, metrics=metrics)
    service.consume(CONSUMER, posting.router(), background=True)
    costing = IncidentCosting(clock=service.clock, metrics=metrics, rates=rates,
                              catalog=catalog)
    service.consume(INCIDENTS_CONSUMER, costing.router(), background=True)
    enforcer = Enforcer(policy_file.configured(settings.policy), "finance")
    register_queries(service, rates, enforcer, catalog)
    FinanceCommands(service, enforcer).register()
    return service

