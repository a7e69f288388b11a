"""The finance service's Prometheus metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class FinanceMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.posted = Counter("reasonops_ledger_entries_posted_total",
                              "Ledger entries posted for supplier penalties",
                              ["currency"], registry=registry)
        self.amount = Counter("reasonops_ledger_posted_amount_total",
                              "Sum of penalty entries posted, in the currency",
                              ["supplier", "currency"], registry=registry)
        self.duplicates = Counter("reasonops_ledger_duplicate_penalties_total",
                                  "Penalties received again under a new message id and "
                                  "not booked twice", registry=registry)
        self.incident_cost = Counter("reasonops_ledger_incident_cost_total",
                                     "Sum of incident costs booked, in the currency",
                                     ["service", "currency"], registry=registry)
        self.late = Counter("reasonops_ledger_late_postings_total",
                            "Entries for a closed month posted to the next open month",
                            registry=registry)
