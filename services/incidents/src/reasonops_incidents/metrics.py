"""The incident service's own metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

from reasonops_runtime.metrics import CountGauge

from . import store


class IncidentMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.alerts = Counter("reasonops_incident_alerts_total",
                              "Alerts routed to incidents, by outcome", ["outcome"],
                              registry=registry)
        self.opened = Counter("reasonops_incidents_opened_total", "Incidents opened",
                              ["priority", "service"], registry=registry)
        self.transitions = Counter("reasonops_incident_transitions_total",
                                   "Incident state changes", ["action", "actor_kind"],
                                   registry=registry)


def open_incidents(registry: CollectorRegistry) -> CountGauge:
    """Incidents not yet resolved, read from the store (``Service.refresh_every``)."""
    return CountGauge("reasonops_incidents_open",
                      "Incidents not resolved or closed, by state, priority and service",
                      store.incidents, {"state": "state", "priority": "priority",
                                        "service": "service"}, registry,
                      where=store.incidents.c.state.not_in(("resolved", "closed")),
                      formats={"priority": lambda p: f"P{p}"})
