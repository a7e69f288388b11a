"""The on-call service's Prometheus metrics: pages by policy and level, notifications by
channel and outcome, time from the first page to the acknowledgement by policy, and
pages sent out of the paged person's working hours."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

ACK_BUCKETS = (30, 60, 120, 300, 600, 900, 1800, 3600, 7200)


class OnCallMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.pages = Counter("reasonops_oncall_pages_total",
                             "Escalation levels paged", ["policy", "level"], registry=registry)
        self.notifications = Counter("reasonops_oncall_notifications_total",
                                     "Notifications sent to people on call",
                                     ["channel", "outcome"], registry=registry)
        self.acknowledged = Histogram("reasonops_oncall_time_to_acknowledge_seconds",
                                      "From the first page to the acknowledgement, by "
                                      "policy, its team and who acknowledged",
                                      ["policy", "team", "user"], buckets=ACK_BUCKETS,
                                      registry=registry)
        self.paged_people = Counter("reasonops_oncall_person_pages_total",
                                    "Times a person was paged (alert fatigue: per week)",
                                    ["user"], registry=registry)
        self.out_of_hours = Counter("reasonops_oncall_out_of_hours_pages_total",
                                    "Pages outside 08:00-18:00 Monday to Friday in the "
                                    "person's time zone", ["user"], registry=registry)
