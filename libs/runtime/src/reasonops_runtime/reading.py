"""Reading a stream as a client: one pass with an ephemeral pull consumer (no acks),
from the start or a time, up to the stream's end when the read began."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime

from nats.aio.client import Client
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import ServiceUnavailableError

from reasonops_contracts.ids import new_id

DEFAULT_BATCH = 1000
UNAVAILABLE_TRIES = 6
"""Fetches answered 503 (a cluster moving the consumer's or stream's leader, a node
rejoining) tried again, a little later each time, before the read fails."""


async def read_stream(nc: Client, stream: str, offer: Callable[[int, str, bytes], None], *,
                      timeout: float = 5.0, batch: int = DEFAULT_BATCH,
                      since: datetime | None = None, subject: str | None = None) -> None:
    """Feed ``offer(seq, subject, data)`` every message of ``stream`` (of ``subject`` only,
    when given) up to the stream's end. Raises ``NotFoundError`` without the stream."""
    js = nc.jetstream()
    info = await js.stream_info(stream)
    last = info.state.last_seq
    if info.state.messages == 0:
        return
    name = f"read-{new_id()}"
    config = ConsumerConfig(
        name=name, ack_policy=AckPolicy.NONE, max_ack_pending=-1,
        deliver_policy=DeliverPolicy.BY_START_TIME if since else DeliverPolicy.ALL,
        opt_start_time=since, inactive_threshold=max(30.0, 4 * timeout),
        filter_subject=subject)
    await js.add_consumer(stream, config)
    sub = await js.pull_subscribe_bind(name, stream=stream)
    unavailable = 0
    try:
        while True:
            try:
                msgs = await sub.fetch(batch, timeout=timeout)
            except TimeoutError:
                return
            except ServiceUnavailableError:
                unavailable += 1
                if unavailable >= UNAVAILABLE_TRIES:
                    raise
                await asyncio.sleep(0.25 * unavailable)
                continue
            for msg in msgs:
                seq = msg.metadata.sequence.stream
                if seq > last:  # written after we started: not part of this reading
                    return
                offer(seq, msg.subject, msg.data)
                if seq == last or msg.metadata.num_pending == 0:
                    return
    finally:
        await sub.unsubscribe()
        with contextlib.suppress(Exception):  # else it expires after inactive_threshold
            await js.delete_consumer(stream, name)
