"""Composition root of the SLM service."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from reasonops_runtime import Clock, Service, ServiceSettings, policy_file
from reasonops_runtime.catalog_file import load_catalog
from reasonops_runtime.enforcement import Enforcer

from .config import load_contracts, load_sla
from .handlers import CONSUMER, SlaClocks
from .metrics import SlmMetrics, running_clocks
from .monthly import MONTH_END_TIMER, MonthEnd
from .queries import register_queries
from .shell import DEADLINE_TIMER
from .store import metadata


class SlmSettings(ServiceSettings):
    service_name: str = "slm"
    sla_policies: Path | None = Field(
        default=None,
        description="REASONOPS_SLA_POLICIES: YAML file of SLA definitions (per service and "
                    "priority, schedules, OLAs, maintenance, SLOs); built-in defaults when unset")
    supplier_contracts: Path | None = Field(
        default=None,
        description="REASONOPS_SUPPLIER_CONTRACTS: YAML file of supplier contracts and "
                    "penalties; no penalties when unset")
    service_catalog: Path | None = Field(
        default=None, description="REASONOPS_SERVICE_CATALOG: service owners, for who may "
        "read which clocks and reports")

    @field_validator("sla_policies", "supplier_contracts", "service_catalog", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # ``REASONOPS_SUPPLIER_CONTRACTS=`` switches the file off instead of naming ".".
        return None if isinstance(value, str) and not value.strip() else value


def build_service(settings: SlmSettings | None = None, *, clock: Clock | None = None) -> Service:
    """Load and check the policy and contract files, then wire the consumer and the timer.

    A wrong file stops the service here, with a ``ConfigError`` naming file, key and problem.
    """
    settings = settings or SlmSettings()
    config = load_sla(settings.sla_policies)
    contracts = load_contracts(settings.supplier_contracts)
    service = Service("slm", settings, metadata=(metadata,), clock=clock)
    metrics = SlmMetrics(service.registry)
    month_end = MonthEnd(config=config, contracts=contracts, clock=service.clock,
                         metrics=metrics)
    clocks = SlaClocks(config=config, contracts=contracts, clock=service.clock,
                       metrics=metrics, month_end=month_end)
    service.consume(CONSUMER, clocks.router(), background=True)
    service.on_timer(DEADLINE_TIMER, clocks.on_deadline, together=True)
    service.on_timer(MONTH_END_TIMER, month_end.on_month_end)
    register_queries(service, clocks, month_end, Enforcer(
        policy_file.configured(settings.policy), "slm"), load_catalog(settings.service_catalog))
    gauge = running_clocks(service.registry)
    service.refresh_every(5.0, lambda: gauge.refresh(service.store))
    return service
