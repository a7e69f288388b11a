"""Accepting payloads: parse -> normalise -> envelope -> JetStream, for HTTP and NATS."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from nats.js import JetStreamContext
from prometheus_client import CollectorRegistry, Counter

from reasonops_contracts import Envelope, subjects
from reasonops_contracts.ingest import EventAccepted, NativeEvent
from reasonops_contracts.streams import INGEST
from reasonops_runtime import Clock, Delivery, Transaction, tracing

from . import domain
from .formats import AlertmanagerWebhook, Format, PayloadError, parse, too_large

SOURCE = "ingest"
RAW_CONSUMER = "ingest-raw"

RAW_SUBJECTS: dict[str, Format] = {
    subjects.INGEST_RAW_ALERTMANAGER: Format.ALERTMANAGER,
    subjects.INGEST_RAW_EVENT: Format.EVENT,
}

Payload = AlertmanagerWebhook | list[NativeEvent]


class IngestMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.events = Counter(
            "reasonops_ingest_events_total",
            "Monitoring events (one per alert) by format, transport and outcome "
            "(accepted, publish_failed)",
            ["format", "transport", "outcome"], registry=registry)
        self.rejected = Counter(
            "reasonops_ingest_rejected_total",
            "Payloads rejected before any event was published, by format, transport and "
            "reason (malformed_json, invalid_payload, too_large, unsupported_media_type)",
            ["format", "transport", "reason"], registry=registry)

    def accepted(self, fmt: Format, transport: str, n: int) -> None:
        if n:
            self.events.labels(fmt.value, transport, "accepted").inc(n)

    def reject(self, fmt: Format, transport: str, reason: str) -> None:
        self.rejected.labels(fmt.value, transport, reason).inc()


def normalise(payload: Payload, *, received_at: datetime) -> list[EventAccepted]:
    if isinstance(payload, AlertmanagerWebhook):
        return domain.from_alertmanager(payload, received_at=received_at)
    return [domain.from_native(event, received_at=received_at) for event in payload]


def envelopes_for(events: Sequence[EventAccepted]) -> list[Envelope]:
    """Each accepted event starts its own causal chain, keyed by its fingerprint."""
    return [Envelope.wrap(event, source=SOURCE, subject=event.fingerprint,
                          time=event.received_at) for event in events]


class PublishFailed(Exception):
    """JetStream did not acknowledge every event of a request in time."""


async def publish_all(js: JetStreamContext, envelopes: Sequence[Envelope], *,
                      timeout: float) -> None:
    """Publish every envelope with ``publish_async`` and wait until JetStream acked all.

    ``Nats-Msg-Id`` is the envelope id, so a retry inside the duplicate window is
    stored once. Raises ``PublishFailed`` if any publish or ack fails or times out.
    """
    try:
        async with asyncio.timeout(timeout):
            futures = [
                await js.publish_async(EventAccepted.SUBJECT, envelope.to_bytes(),
                                       headers=tracing.inject(envelope.headers()),
                                       stream=INGEST.name)
                for envelope in envelopes
            ]
            await asyncio.gather(*futures)
    except TimeoutError as exc:
        raise PublishFailed(f"JetStream did not acknowledge within {timeout}s") from exc
    except Exception as exc:
        raise PublishFailed(f"JetStream publish failed: {exc!r}") from exc


class RawIntake:
    """Batch handler for raw payloads published on ``itsm.ingest.raw.*``.

    A payload that can never be valid raises ``ValueError`` in ``decode`` and the
    kit dead-letters it with the listed problems; accepted events go through the
    outbox, so they are published exactly when the batch commits.
    """

    def __init__(self, clock: Clock, metrics: IngestMetrics, *, max_bytes: int) -> None:
        self.clock = clock
        self.metrics = metrics
        self.max_bytes = max_bytes

    def decode(self, delivery: Delivery) -> tuple[Format, Payload]:
        fmt = RAW_SUBJECTS.get(delivery.subject)
        if fmt is None:
            raise ValueError(f"ingest does not read {delivery.subject!r}")
        try:
            if len(delivery.data) > self.max_bytes:
                raise too_large(self.max_bytes)
            return fmt, parse(fmt, delivery.data)
        except PayloadError as exc:
            self.metrics.reject(fmt, "nats", exc.reason)
            raise

    async def __call__(self, tx: Transaction, batch: Sequence[tuple[Delivery, Any]]) -> None:
        for delivery, (fmt, payload) in batch:
            events = normalise(payload, received_at=self.clock.now())
            for envelope in envelopes_for(events):
                tx.emit(envelope, EventAccepted.SUBJECT, caused_by=delivery.key)
            self.metrics.accepted(fmt, "nats", len(events))
