"""Prometheus metrics every service exports; services add their own to ``registry``."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class KitMetrics:
    """The pipeline-health metrics the kit records for every service."""

    def __init__(self, service: str, registry: CollectorRegistry | None = None) -> None:
        self.service = service
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.messages = Counter(
            "reasonops_messages_total",
            "Messages taken from JetStream, by consumer and outcome "
            "(handled, duplicate, retried, dead_lettered)",
            ["service", "consumer", "outcome"], registry=r)
        self.batch_seconds = Histogram(
            "reasonops_handler_batch_seconds",
            "Time to handle one fetched batch: transaction, outbox publish and acks",
            ["service", "consumer"], registry=r,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
        self.pending = Gauge(
            "reasonops_consumer_pending_messages",
            "Messages in the stream not yet delivered to this durable consumer (lag)",
            ["service", "consumer"], registry=r)
        self.outbox_published = Counter(
            "reasonops_outbox_published_total", "Events relayed from the outbox to JetStream",
            ["service"], registry=r)
        self.outbox_backlog = Gauge(
            "reasonops_outbox_backlog", "Events committed but not yet acknowledged by JetStream",
            ["service"], registry=r)
        self.requests = Counter(
            "reasonops_requests_total", "Commands and queries answered, by subject and outcome",
            ["service", "subject", "outcome"], registry=r)
        self.request_seconds = Histogram(
            "reasonops_request_seconds", "Time to answer a command or query",
            ["service", "subject"], registry=r)
        self.timers_fired = Counter(
            "reasonops_timers_fired_total", "Durable timers fired, by kind",
            ["service", "kind"], registry=r)
        self.up = Gauge("reasonops_service_ready", "1 when the service is ready", ["service"],
                        registry=r)
