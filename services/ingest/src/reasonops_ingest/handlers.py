"""Accepting payloads: parse -> normalise -> envelope, for HTTP and NATS alike."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from reasonops_contracts import durables, subjects
from reasonops_contracts.ingest import NativeEvent
from reasonops_runtime import Clock, Delivery, Transaction

from . import cloudevents, domain, pagerduty
from .domain import ANONYMOUS, Sender
from .formats import (
    AlertmanagerWebhook,
    Format,
    PayloadError,
    parse,
    payload_error,
    too_large,
)
from .metrics import IngestMetrics
from .pagerduty_flow import apply_change, apply_pagerduty
from .publishing import SOURCE, Outgoing, Publish, PublishFailed, accepted, publish_all

__all__ = ["RAW_CONSUMER", "RAW_SUBJECTS", "SOURCE", "Outgoing", "PublishFailed",
           "RawIntake", "accepted", "normalise", "publish_all"]

RAW_CONSUMER = durables.INGEST_RAW

RAW_SUBJECTS: dict[str, Format] = {
    subjects.INGEST_RAW_ALERTMANAGER: Format.ALERTMANAGER,
    subjects.INGEST_RAW_EVENT: Format.EVENT,
    subjects.INGEST_RAW_GRAFANA: Format.GRAFANA,
    subjects.INGEST_RAW_CLOUDEVENTS: Format.CLOUDEVENTS,
    subjects.INGEST_RAW_PAGERDUTY: Format.PAGERDUTY,
    subjects.INGEST_RAW_CHANGE: Format.CHANGE,
}

Payload = AlertmanagerWebhook | list[NativeEvent]


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def normalise(fmt: Format, payload: Any, *, received_at: datetime,
              sender: Sender = ANONYMOUS, input_key: str | None = None,
              trace_context: str | None = None) -> list[Outgoing]:
    """``_normalise``; an event that cannot be accepted (an identifier beyond its limit,
    see ``reasonops_contracts.limits``) refuses the payload with the field named."""
    try:
        return _normalise(fmt, payload, received_at=received_at, sender=sender,
                          input_key=input_key, trace_context=trace_context)
    except ValidationError as exc:
        raise payload_error(exc) from None


def _normalise(fmt: Format, payload: Any, *, received_at: datetime,
               sender: Sender, input_key: str | None,
               trace_context: str | None) -> list[Outgoing]:
    """Stateless formats: every alert of the payload, with its acceptance id.

    Alertmanager and Grafana: a notification's alert is identified by the group key,
    its fingerprint, status and start; CloudEvents by ``source`` + ``id``. A native
    event has no identity of its own: over HTTP each is new; read from a raw NATS
    message (``input_key``) it is identified by that message and its position in it,
    so a redelivered message is stored once. ``trace_context`` is the trace the
    outputs continue (a raw message's).
    """
    integration = sender.integration or ""
    if isinstance(payload, AlertmanagerWebhook):
        events = domain.from_alertmanager(payload, received_at=received_at, sender=sender,
                                          fmt=fmt)
        return [accepted(e, _digest("am", integration, payload.group_key or "",
                                    e.fingerprint, e.status, str(e.starts_at)),
                         trace_context=trace_context)
                for e in events]
    if fmt is Format.CLOUDEVENTS:
        return [accepted(cloudevents.to_event(ce, received_at=received_at, sender=sender),
                         cloudevents.acceptance_id(sender.integration, ce),
                         trace_context=trace_context)
                for ce in payload]
    return [accepted(domain.from_native(e, received_at=received_at, sender=sender),
                     None if input_key is None else _digest("raw", input_key, str(i)),
                     trace_context=trace_context)
            for i, e in enumerate(payload)]


class RawIntake:
    """Batch handler for raw payloads published on ``itsm.ingest.raw.*``.

    Senders inside the cluster are trusted by the broker's permissions, so no key is
    asked; they are read with the default rules. A payload that can never be valid
    raises ``ValueError`` in ``decode`` and the kit dead-letters it with the listed
    problems.

    Stateless formats are published straight to JetStream from inside the batch's
    transaction, and the kit acks the inputs only after that transaction commits. Each
    output's ``Nats-Msg-Id`` is derived from its input (the sender's identity of the
    event, else the input message's key and position), so a redelivered input is
    stored once: no outbox row is needed, which keeps this path near the reference
    hop. PagerDuty events change the dedup_key state, so they go through the outbox
    with it.
    """

    def __init__(self, clock: Clock, metrics: IngestMetrics, *, max_bytes: int,
                 publish: Publish | None = None) -> None:
        self.clock = clock
        self.metrics = metrics
        self.max_bytes = max_bytes
        self.publish = publish

    def decode(self, delivery: Delivery) -> tuple[Format, Any]:
        fmt = RAW_SUBJECTS.get(delivery.subject)
        if fmt is None:
            raise ValueError(f"ingest does not read {delivery.subject!r}")
        try:
            if len(delivery.data) > self.max_bytes:
                raise too_large(self.max_bytes)
            return fmt, _parse_raw(fmt, delivery.data)
        except PayloadError as exc:
            self.metrics.reject(fmt, "nats", exc.reason)
            raise

    def needs_inbox(self, item: tuple[Format, Any]) -> bool:
        """Only PagerDuty events change state (the dedup_key's); every other format's
        outputs are published with input-derived ``Nats-Msg-Id``s, so the broker, not an
        inbox row, stores a redelivered input once. Through the outbox (no ``publish``)
        they are keyed by envelope id, so there the inbox is what stores them once."""
        return self.publish is None or item[0] is Format.PAGERDUTY

    async def __call__(self, tx: Transaction, batch: Sequence[tuple[Delivery, Any]]) -> None:
        direct: list[Outgoing] = []
        counts: dict[Format, int] = {}
        for delivery, (fmt, payload) in batch:
            now = self.clock.now()
            # Events made from a raw payload continue the trace it arrived with.
            parent = tx.trace_of(delivery.key)
            if fmt is Format.PAGERDUTY:
                _, out = await apply_pagerduty(tx.session, payload, raw=delivery.data,
                                               sender=ANONYMOUS, now=now)
                tx.emitted.extend(replace(m, trace_context=parent).outbox for m in out)
            else:
                out = ([replace(apply_change(payload, sender=ANONYMOUS, now=now),
                                trace_context=parent)] if fmt is Format.CHANGE
                       else normalise(fmt, payload, received_at=now, input_key=delivery.key,
                                      trace_context=parent))
                direct.extend(out)
            counts[fmt] = counts.get(fmt, 0) + len(out)
        if self.publish is None:
            tx.emitted.extend(message.outbox for message in direct)
        else:
            await self.publish(direct)  # raises PublishFailed: the batch rolls back
        for fmt, n in counts.items():
            self.metrics.accepted(fmt, "nats", n)


def _parse_raw(fmt: Format, raw: bytes) -> Any:
    if fmt is Format.CLOUDEVENTS:
        return (cloudevents.parse_batch(raw) if raw.lstrip()[:1] == b"["
                else cloudevents.parse_structured(raw))
    if fmt is Format.PAGERDUTY:
        return pagerduty.parse_event(raw)
    if fmt is Format.CHANGE:
        return pagerduty.parse_change(raw)
    return parse(fmt, raw)
