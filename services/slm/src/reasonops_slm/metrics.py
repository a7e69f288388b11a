"""SLM gauges read from the store; the counters live with the handlers."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from reasonops_runtime.metrics import CountGauge

from . import store


def running_clocks(registry: CollectorRegistry) -> CountGauge:
    """SLA clocks still running (``Service.refresh_every``)."""
    return CountGauge("reasonops_sla_clocks_running", "SLA clocks running, by kind, priority "
                      "and service", store.clocks,
                      {"kind": "kind", "priority": "priority", "service": "service"}, registry,
                      where=store.clocks.c.state == "running",
                      formats={"priority": lambda p: f"P{p}"})
