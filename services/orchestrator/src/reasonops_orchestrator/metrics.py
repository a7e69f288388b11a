"""Orchestrator gauges read from the store; the counters live with the handlers."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

from reasonops_contracts import Event
from reasonops_contracts.workflows import (
    WorkflowCompleted,
    WorkflowFailed,
    WorkflowStarted,
    WorkflowStepCompleted,
)
from reasonops_runtime.metrics import CountGauge

from . import store
from .domain import UNFINISHED


def workflow_instances(registry: CollectorRegistry) -> CountGauge:
    """Workflow instances not finished, by workflow and state (``Service.refresh_every``).
    Finished ones are counted as they finish (``reasonops_workflows_completed_total``,
    ``..._failed_total``): counting them here read every instance ever started."""
    return CountGauge("reasonops_workflow_instances",
                      "Workflow instances queued, running or compensating, by workflow and state",
                      store.instances, {"workflow": "workflow", "state": "state"}, registry,
                      where=store.instances.c.state.in_(UNFINISHED))


class WorkflowMetrics:
    """Counters of what instances did, observed from the events they publish."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.started = Counter("reasonops_workflows_started_total", "Workflow instances started",
                               ["workflow"], registry=registry)
        self.steps = Counter("reasonops_workflow_steps_completed_total",
                             "Workflow steps completed", ["workflow", "step"], registry=registry)
        self.completed = Counter("reasonops_workflows_completed_total",
                                 "Workflow instances completed", ["workflow"], registry=registry)
        self.failed = Counter("reasonops_workflows_failed_total", "Workflow instances failed",
                              ["workflow"], registry=registry)

    def observe(self, event: Event) -> None:
        if isinstance(event, WorkflowStarted):
            self.started.labels(event.workflow).inc()
        elif isinstance(event, WorkflowStepCompleted):
            self.steps.labels(event.workflow, event.step).inc()
        elif isinstance(event, WorkflowCompleted):
            self.completed.labels(event.workflow).inc()
        elif isinstance(event, WorkflowFailed):
            self.failed.labels(event.workflow).inc()
