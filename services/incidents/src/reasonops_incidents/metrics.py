"""The incident service's own metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

from reasonops_runtime.metrics import CountGauge

from .incident import store
from .incident.domain import OPEN_STATES, Incident


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
        self.escalations = Counter("reasonops_incident_escalations_total",
                                   "Escalations to the next level, by assignment group",
                                   ["assignment_group"], registry=registry)
        self.rules_refused = Gauge("reasonops_incident_rules_refused",
                                   "1 while a changed correlation rule file is refused and "
                                   "the previous rules apply", registry=registry)
        self.resolved = Counter("reasonops_incidents_resolved_total", "Incidents resolved",
                                ["priority", "service"], registry=registry)

    def transitioned(self, action: str, actor_kind: str, incident: Incident) -> None:
        self.transitions.labels(action, actor_kind).inc()
        if action == "resolve":
            self.resolved.labels(f"P{incident.priority}", incident.service or "").inc()


def open_incidents(registry: CollectorRegistry) -> CountGauge:
    """Incidents not yet resolved, read from the store (``Service.refresh_every``)."""
    return CountGauge("reasonops_incidents_open",
                      "Incidents not resolved or closed, by state, priority and service",
                      store.incidents, {"state": "state", "priority": "priority",
                                        "service": "service"}, registry,
                      where=store.incidents.c.state.in_(sorted(OPEN_STATES)),
                      formats={"priority": lambda p: f"P{p}"})
