"""Parking a message a consumer gives up on: the whole message (bytes and headers), the
consumer and the error, as a ``MessageDeadLettered`` on the service's dead-letter subject,
where ``reasonops deadletters`` reads and replays it."""

from __future__ import annotations

import logging

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from reasonops_contracts import Envelope, subjects
from reasonops_contracts.deadletter import MessageDeadLettered

from .clock import Clock
from .delivery import Delivery

log = logging.getLogger(__name__)

ROOM_FOR_THE_RECORD = 1024
"""Bytes kept free for the record around a message cut to fit the broker."""


async def park(msg: Msg, delivery: Delivery, error: str, *, service: str, consumer: str,
               failures: int, nc: Client, js: JetStreamContext, clock: Clock) -> None:
    """Publish the dead letter of ``delivery`` (the broker acknowledges it before this
    returns); the caller then acks the message itself."""
    parked = MessageDeadLettered(
        service=service, consumer=consumer, original_subject=delivery.subject,
        stream_sequence=msg.metadata.sequence.stream if msg.metadata.sequence else None,
        deliveries=failures, error=error[:4000], headers=delivery.headers,
        dead_lettered_at=clock.now(), **MessageDeadLettered.body(delivery.data))
    envelope = fitting(Envelope.wrap(parked, source=service, subject=delivery.key,
                                     time=parked.dead_lettered_at), parked,
                       nc.max_payload)
    await js.publish(subjects.dead_letter(service), envelope.to_bytes(),
                     headers=envelope.headers())


def fitting(envelope: Envelope, parked: MessageDeadLettered, limit: int | None) -> Envelope:
    """``envelope`` as it is, or with the message cut (and marked so) when the whole
    message and the record around it would exceed what the broker accepts (``limit``)."""
    size = len(envelope.to_bytes())
    if not limit or size <= limit:
        return envelope
    room = max(0, len(parked.payload or parked.payload_base64 or "") - (size - limit)
               - ROOM_FOR_THE_RECORD)
    cut = parked.model_copy(update={
        "payload": parked.payload[:room],
        "payload_base64": parked.payload_base64[:room] if parked.payload_base64 else None,
        "truncated": True})
    log.error("dead letter cut to fit the broker", extra={
        "consumer": parked.consumer, "bytes": size, "limit": limit})
    return envelope.model_copy(update={"data": cut.model_dump(mode="json")})
