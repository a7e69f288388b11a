"""The SLM service's Prometheus metrics."""

from __future__ import annotations

from decimal import Decimal

from prometheus_client import CollectorRegistry, Counter

from reasonops_runtime.metrics import CountGauge

from . import store


class SlmMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.started = Counter("reasonops_sla_clocks_started_total", "SLA clocks started",
                               ["kind", "priority"], registry=registry)
        self.met = Counter("reasonops_sla_clocks_met_total", "SLA clocks stopped within target",
                           ["kind", "priority"], registry=registry)
        self.breached = Counter("reasonops_sla_breaches_total", "SLA clocks breached",
                                ["kind", "priority", "service"], registry=registry)
        self.at_risk = Counter("reasonops_sla_at_risk_total",
                               "At-risk warnings announced, by threshold percent",
                               ["kind", "percent"], registry=registry)
        self.penalties = Counter("reasonops_sla_penalties_total", "Supplier penalties assessed",
                                 ["supplier", "currency"], registry=registry)
        self.penalty_amount = Counter("reasonops_sla_penalty_amount_total",
                                      "Sum of supplier penalties assessed, in the currency",
                                      ["supplier", "currency"], registry=registry)

    def charged(self, supplier: str, currency: str, amount: Decimal) -> None:
        self.penalties.labels(supplier, currency).inc()
        self.penalty_amount.labels(supplier, currency).inc(float(amount))


def running_clocks(registry: CollectorRegistry) -> CountGauge:
    """SLA clocks still running (``Service.refresh_every``)."""
    return CountGauge("reasonops_sla_clocks_running", "SLA clocks running, by kind, priority "
                      "and service", store.clocks,
                      {"kind": "kind", "priority": "priority", "service": "service"}, registry,
                      where=store.clocks.c.state == "running",
                      formats={"priority": lambda p: f"P{p}"})
