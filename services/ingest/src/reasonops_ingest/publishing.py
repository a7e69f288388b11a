"""Publishing accepted messages to JetStream and waiting for every ack.

Each message carries its own ``Nats-Msg-Id``: the sender's identity of the event
where the format has one (so a retry inside the INGEST stream's duplicate window is
stored once), else the envelope id.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from nats.js.api import Header

from reasonops_contracts import MSG_ID_HEADER, Envelope
from reasonops_contracts.envelope import TYPE_HEADER
from reasonops_contracts.ids import new_id
from reasonops_contracts.ingest import EventAccepted
from reasonops_contracts.messages import Event
from reasonops_contracts.streams import INGEST
from reasonops_runtime import tracing
from reasonops_runtime.acks import BatchPublisher, Publication
from reasonops_runtime.store import OutboxMessage

SOURCE = "ingest"


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One accepted message, already serialised: the hot path builds it once."""

    subject: str
    envelope_id: str
    payload: bytes
    msg_id: str
    type: str
    fingerprint: str | None = None
    status: str | None = None
    trace_context: str | None = None
    """The ``traceparent`` the message continues (a raw payload's); else the active span's."""

    @property
    def envelope(self) -> Envelope:
        return Envelope.from_bytes(self.payload)

    @property
    def outbox(self) -> OutboxMessage:
        """For the raw NATS path, which publishes through the outbox."""
        return OutboxMessage(self.envelope_id, self.subject, self.payload, self.trace_context)


def accepted(event: Event, msg_id: str | None = None, *, subject: str | None = None,
             trace_context: str | None = None) -> Outgoing:
    """Each accepted event starts its own causal chain, keyed by its fingerprint; its id
    is ``msg_id`` (derived from the sender's identity of the event) when there is one.

    The envelope is the one ``Envelope.wrap`` makes, serialised directly: the event is
    dumped once by its own (compiled) serializer instead of via a dict into ``Envelope``.
    """
    fingerprint = status = None
    if isinstance(event, EventAccepted):
        fingerprint, status = event.fingerprint, event.status
        subject = subject or fingerprint
    # The sender's identity of the event, when it has one, is the envelope's too: a
    # re-send after the broker's duplicate window reaches the consumers' inboxes under
    # the id they already handled.
    envelope_id = msg_id or new_id()
    time: datetime = getattr(event, "received_at", None) or datetime.now(UTC)
    # Only the subject can hold characters JSON must escape; the rest are ours.
    head = (f'{{"specversion":"1.0","id":"{envelope_id}","type":"{event.TYPE}",'
            f'"source":"{SOURCE}","time":"{time.isoformat()}","subject":{json.dumps(subject)},'
            f'"correlation_id":"{envelope_id}","causation_id":null,'
            '"datacontenttype":"application/json","data":')
    payload = b"".join((head.encode(), event.model_dump_json().encode(), b"}"))
    return Outgoing(event.SUBJECT, envelope_id, payload, msg_id or envelope_id, event.TYPE,
                    fingerprint, status, trace_context)


Publish = Callable[[Sequence[Outgoing]], Awaitable[None]]
"""Publishes and returns once JetStream acked them all; raises ``PublishFailed``."""


class PublishFailed(Exception):
    """JetStream did not acknowledge every message of a request in time."""


async def publish_all(publisher: BatchPublisher, messages: Sequence[Outgoing], *,
                      timeout: float) -> None:
    """Publish every message and wait for all their acks together.

    Concurrent requests share one connection, so their publishes are pipelined on
    the wire; each request waits only for its own acks.
    """
    traced = tracing.enabled()  # once per request: with OTEL unset it is not free
    try:
        await publisher.publish([Publication(m.subject, m.payload, _headers(m, traced))
                                 for m in messages], timeout=timeout)
    except TimeoutError as exc:
        raise PublishFailed(f"JetStream did not acknowledge within {timeout}s") from exc
    except Exception as exc:
        raise PublishFailed(f"JetStream publish failed: {exc}") from exc


def _headers(message: Outgoing, traced: bool = True) -> dict[str, str]:
    headers = {MSG_ID_HEADER: message.msg_id, TYPE_HEADER: message.type,
               # JetStream refuses the message unless INGEST is the stream that takes it.
               Header.EXPECTED_STREAM.value: INGEST.name}
    if message.trace_context is not None:
        headers[tracing.TRACEPARENT] = message.trace_context
        return headers
    return tracing.inject(headers) if traced else headers
