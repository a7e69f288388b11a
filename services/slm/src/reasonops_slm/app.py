"""Composition root of the SLM service."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from reasonops_runtime import Clock, Service, ServiceSettings

from .config import load_contracts, load_policies
from .handlers import CONSUMER, DEADLINE_TIMER, SlaClocks, SlmMetrics, register_queries
from .metrics import running_clocks
from .store import metadata


class SlmSettings(ServiceSettings):
    service_name: str = "slm"
    sla_policies: Path | None = Field(
        default=None,
        description="REASONOPS_SLA_POLICIES: YAML file of SLA policies per priority; "
                    "built-in defaults when unset")
    supplier_contracts: Path | None = Field(
        default=None,
        description="REASONOPS_SUPPLIER_CONTRACTS: YAML file of supplier contracts and "
                    "penalties; no penalties when unset")

    @field_validator("sla_policies", "supplier_contracts", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # ``REASONOPS_SUPPLIER_CONTRACTS=`` switches the file off instead of naming ".".
        return None if isinstance(value, str) and not value.strip() else value


def build_service(settings: SlmSettings | None = None, *, clock: Clock | None = None) -> Service:
    """Load and check the policy and contract files, then wire the consumer and the timer.

    A wrong file stops the service here, with a ``ConfigError`` naming file, key and problem.
    """
    settings = settings or SlmSettings()
    policies = load_policies(settings.sla_policies)
    contracts = load_contracts(settings.supplier_contracts)
    service = Service("slm", settings, metadata=(metadata,), clock=clock)
    clocks = SlaClocks(policies=policies, contracts=contracts, clock=service.clock,
                       metrics=SlmMetrics(service.registry))
    service.consume(CONSUMER, clocks.router())
    service.on_timer(DEADLINE_TIMER, clocks.on_deadline)
    register_queries(service)
    gauge = running_clocks(service.registry)
    service.refresh_every(5.0, lambda: gauge.refresh(service.store))
    return service
