"""The incident service's own metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


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
