"""The change service's Prometheus metrics: changes requested by type, completed by type
and outcome, requests refused by the calendar, and incidents linked to changes."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class ChangeCounters:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requested = Counter("reasonops_changes_requested_total", "Changes requested",
                                 ["type"], registry=registry)
        self.completed = Counter("reasonops_changes_completed_total",
                                 "Changes completed, by outcome", ["type", "outcome"],
                                 registry=registry)
        self.refused = Counter("reasonops_changes_refused_total",
                               "Change requests the calendar refused (conflict, freeze)",
                               ["reason"], registry=registry)
        self.linked = Counter("reasonops_changes_linked_incidents_total",
                              "Incidents opened on a changed service during or shortly "
                              "after the change", registry=registry)
