"""Orchestrator gauges read from the store; the counters live with the handlers."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from reasonops_runtime.metrics import CountGauge

from . import store


def workflow_instances(registry: CollectorRegistry) -> CountGauge:
    """Workflow instances by workflow and state (``Service.refresh_every``)."""
    return CountGauge("reasonops_workflow_instances", "Workflow instances, by workflow and state",
                      store.instances, {"workflow": "workflow", "state": "state"}, registry)
