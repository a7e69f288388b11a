"""The incident service's own metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


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
