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
                                      "From the first page to the acknowledgement",
                                      ["policy"], buckets=ACK_BUCKETS, registry=registry)
