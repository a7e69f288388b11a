"""The ServiceNow sync's Prometheus metrics: records created and updated, ServiceNow's
changes applied by how they arrived, failures by direction, pushes put off by rate limits
or outages, records read by the poll, and requests sent to ServiceNow."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class SyncMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.pushed = Counter("reasonops_servicenow_records_pushed_total",
                              "ServiceNow records created or updated from incidents",
                              ["kind"], registry=registry)
        self.applied = Counter("reasonops_servicenow_updates_applied_total",
                               "Changes made in ServiceNow applied to incidents",
                               ["via"], registry=registry)
        self.failures = Counter("reasonops_servicenow_failures_total",
                                "Records that could not be kept in step (refused by "
                                "ServiceNow or ReasonOps, or a mapping error)",
                                ["direction"], registry=registry)
        self.deferred = Counter("reasonops_servicenow_deferred_total",
                                "Pushes and reads put off because ServiceNow asked to wait "
                                "(429, 503) or could not be reached", registry=registry)
        self.polled = Counter("reasonops_servicenow_polled_records_total",
                              "Records read back by the poll", registry=registry)
        self.requests = Counter("reasonops_servicenow_requests_total",
                                "Requests sent to ServiceNow (OAuth token requests too)",
                                ["method"], registry=registry)
