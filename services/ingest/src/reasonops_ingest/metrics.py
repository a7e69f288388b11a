"""The ingest service's Prometheus metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from .formats import Format


class IngestMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.events = Counter(
            "reasonops_ingest_events_total",
            "Monitoring events (one per alert) by format, transport and outcome "
            "(accepted, publish_failed, rate_limited)",
            ["format", "transport", "outcome"], registry=registry)
        self.rejected = Counter(
            "reasonops_ingest_rejected_total",
            "Payloads rejected before any event was published, by format, transport and "
            "reason (malformed_json, invalid_payload, too_large, unsupported_media_type, "
            "missing_key, unknown_key, revoked_key, expired_key, format_not_allowed)",
            ["format", "transport", "reason"], registry=registry)
        self.acceptance = Histogram(
            "reasonops_ingest_acceptance_seconds",
            "From request received to JetStream's last ack (HTTP), by format",
            ["format"], registry=registry,
            buckets=(.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))

        # Labelled children by label values: ``labels()`` costs a lock and a tuple
        # build per call, and the accepted counters are touched on every request.
        self._accepted: dict[tuple[Format, str], Counter] = {}
        self._acceptance: dict[Format, Histogram] = {}

    def accepted(self, fmt: Format, transport: str, n: int) -> None:
        if n:
            child = self._accepted.get((fmt, transport))
            if child is None:
                child = self._accepted[fmt, transport] = self.events.labels(
                    fmt.value, transport, "accepted")
            child.inc(n)

    def observe_acceptance(self, fmt: Format, seconds: float) -> None:
        child = self._acceptance.get(fmt)
        if child is None:
            child = self._acceptance[fmt] = self.acceptance.labels(fmt.value)
        child.observe(seconds)

    def reject(self, fmt: Format, transport: str, reason: str) -> None:
        self.rejected.labels(fmt.value, transport, reason).inc()
