"""Publishing a batch to JetStream and waiting for all of its acks at once.

nats-py's ``publish_async`` is made for one message at a time: each gets its own
future, a semaphore slot, a random reply token, a done callback, and its ack parsed
into a ``PubAck``. A batch needs none of that. Here every message of a batch is
published with the reply subject ``<inbox>.<batch>.<index>`` on one wildcard
subscription; the replies are counted, an error reply (or the broker's "no
responders" status) fails the whole batch, and the batch's single future resolves
when every index has answered. Duplicates (a ``Nats-Msg-Id`` seen inside the stream's
window) are acks like any other: the message is stored, once.

The caller learns nothing per message but success or failure of the batch, which is
all the outbox and ingest need: both keep their inputs until the batch is acked.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js.api import Header, StatusCode

STATUS_HEADER = Header.STATUS.value
NO_RESPONDERS = StatusCode.SERVICE_UNAVAILABLE.value


class BatchNotAcked(Exception):
    """JetStream refused a message of the batch, or no stream took its subject.

    ``transient``: the broker's state, not the message, was the cause (no stream leader
    answered while a cluster elects one, JetStream was unavailable, the publisher was
    closing), so the same message may be accepted later (see ``faults``)."""

    def __init__(self, reason: str, *, transient: bool = False) -> None:
        super().__init__(reason)
        self.transient = transient


@dataclass(frozen=True, slots=True)
class Publication:
    subject: str
    payload: bytes
    headers: dict[str, str] | None = None


@dataclass(slots=True)
class _Pending:
    size: int
    done: asyncio.Future[None]
    answered: set[int] = field(default_factory=set)


class BatchPublisher:
    """Publishes batches over one connection; concurrent batches share its inbox."""

    def __init__(self, nc: Client) -> None:
        self.nc = nc
        self.inbox = nc.new_inbox()
        self._pending: dict[str, _Pending] = {}
        self._ids = itertools.count(1)
        self._sub: Subscription | None = None

    async def start(self) -> None:
        self._sub = await self.nc.subscribe(f"{self.inbox}.*.*", cb=self._on_reply)

    async def close(self) -> None:
        if self._sub is not None:
            await self._sub.unsubscribe()
            self._sub = None
        for pending in self._pending.values():
            if not pending.done.done():
                pending.done.set_exception(BatchNotAcked("publisher closed", transient=True))
        self._pending.clear()

    async def publish(self, batch: Sequence[Publication], *, timeout: float) -> None:
        """Publish ``batch`` and return once JetStream acked every message.

        Raises ``BatchNotAcked`` for a refusal and ``TimeoutError`` when the acks do not
        all arrive within ``timeout`` seconds (the broker may have stored some of them:
        callers retry with the same ``Nats-Msg-Id``s, which stores each once).
        """
        if not batch:
            return
        if self._sub is None:
            raise BatchNotAcked("publisher not started", transient=True)
        batch_id = str(next(self._ids))
        pending = _Pending(len(batch), asyncio.get_running_loop().create_future())
        self._pending[batch_id] = pending
        prefix = f"{self.inbox}.{batch_id}."
        publish = self.nc.publish
        try:
            async with asyncio.timeout(timeout):
                for i, message in enumerate(batch):
                    await publish(message.subject, message.payload, reply=f"{prefix}{i}",
                                  headers=message.headers)
                await pending.done
        finally:
            del self._pending[batch_id]

    async def _on_reply(self, msg: Msg) -> None:
        _, _, tail = msg.subject.rpartition(self.inbox)
        batch_id, _, index = tail[1:].partition(".")
        pending = self._pending.get(batch_id)
        if pending is None or pending.done.done():
            return  # a late reply for a batch that timed out or already failed
        if msg.headers and msg.headers.get(STATUS_HEADER) == NO_RESPONDERS:
            # No stream, or (in a cluster) no leader of it yet: try again later.
            pending.done.set_exception(BatchNotAcked(
                "no stream takes the message's subject (no responders)", transient=True))
            return
        if b'"error"' in msg.data and (refusal := _refusal(msg.data)) is not None:
            pending.done.set_exception(BatchNotAcked(
                refusal, transient="(code 503," in refusal))  # JetStream unavailable
            return
        pending.answered.add(int(index))
        if len(pending.answered) == pending.size:
            pending.done.set_result(None)


def _refusal(data: bytes) -> str | None:
    """JetStream's ``{"error": {"code", "err_code", "description"}}`` as one line; None
    for an ack that merely contains the word (a stream named "error", say)."""
    try:
        error = json.loads(data).get("error")
    except ValueError:
        return f"JetStream answered {data[:200].decode(errors='replace')!r}"
    if not error:
        return None
    if not isinstance(error, dict):
        return f"JetStream refused the message: {error}"
    return (f"JetStream refused the message: {error.get('description')} "
            f"(code {error.get('code')}, err_code {error.get('err_code')})")
