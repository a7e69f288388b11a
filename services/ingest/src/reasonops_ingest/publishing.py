"""Publishing accepted messages to JetStream and waiting for every ack.

Each message carries its own ``Nats-Msg-Id``: the sender's identity of the event
where the format has one (so a retry inside the INGEST stream's duplicate window is
stored once), else the envelope id.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from nats.js import JetStreamContext

from reasonops_contracts import MSG_ID_HEADER, Envelope
from reasonops_contracts.envelope import TYPE_HEADER
from reasonops_contracts.ingest import EventAccepted
from reasonops_contracts.messages import Event
from reasonops_contracts.streams import INGEST

SOURCE = "ingest"


@dataclass(frozen=True, slots=True)
class Outgoing:
    subject: str
    envelope: Envelope
    msg_id: str

    @classmethod
    def of(cls, envelope: Envelope, subject: str, msg_id: str | None = None) -> Outgoing:
        return cls(subject, envelope, msg_id or envelope.id)


def accepted(event: Event, msg_id: str | None = None, *, subject: str | None = None
             ) -> Outgoing:
    """Each accepted event starts its own causal chain, keyed by its fingerprint."""
    if subject is None and isinstance(event, EventAccepted):
        subject = event.fingerprint
    envelope = Envelope.wrap(event, source=SOURCE, subject=subject,
                             time=getattr(event, "received_at", None))
    return Outgoing.of(envelope, event.SUBJECT, msg_id)


Publish = Callable[[Sequence[Outgoing]], Awaitable[None]]
"""Publishes and returns once JetStream acked them all; raises ``PublishFailed``."""


class PublishFailed(Exception):
    """JetStream did not acknowledge every message of a request in time."""


async def publish_all(js: JetStreamContext, messages: Sequence[Outgoing], *,
                      timeout: float) -> None:
    """``publish_async`` every message, then wait for all acks together.

    Concurrent requests share one connection, so their publishes are pipelined on
    the wire; each request waits only for its own acks.
    """
    try:
        async with asyncio.timeout(timeout):
            futures = [
                await js.publish_async(m.subject, m.envelope.to_bytes(), headers={
                    MSG_ID_HEADER: m.msg_id, TYPE_HEADER: m.envelope.type}, stream=INGEST.name)
                for m in messages
            ]
            await asyncio.gather(*futures)
    except TimeoutError as exc:
        raise PublishFailed(f"JetStream did not acknowledge within {timeout}s") from exc
    except Exception as exc:
        raise PublishFailed(f"JetStream publish failed: {exc!r}") from exc
