"""The reference hop written directly on nats-py, measured in the same run as ReasonOps.

fetch(100) -> pydantic -> publish_async -> wait for every ack -> ack the inputs.
Every ReasonOps figure is also printed as a ratio to this hop, so results compare
across machines.
"""

from __future__ import annotations

import asyncio
import time

from nats.aio.client import Client
from nats.js.api import StreamConfig

from reasonops_contracts import Envelope
from reasonops_contracts.ingest import EventAccepted

IN, OUT = "BENCH_REF_IN", "BENCH_REF_OUT"


async def reference_hop(nc: Client, payloads: list[bytes]) -> float:
    """Messages/s of the hand-written hop draining ``payloads`` from one stream to another."""
    js = nc.jetstream(publish_async_max_pending=4000)
    for name, subject in ((IN, "bench.ref.in"), (OUT, "bench.ref.out")):
        await js.add_stream(StreamConfig(name=name, subjects=[subject]))
    for i in range(0, len(payloads), 2000):
        futures = [await js.publish_async("bench.ref.in", p) for p in payloads[i:i + 2000]]
        await asyncio.gather(*futures)
    sub = await js.pull_subscribe("bench.ref.in", durable="ref", stream=IN)
    done = 0
    started = time.perf_counter()
    while done < len(payloads):
        msgs = await sub.fetch(100, timeout=5)
        futures = []
        for msg in msgs:
            envelope = Envelope.from_bytes(msg.data)
            event = envelope.decode(EventAccepted)
            futures.append(await js.publish_async("bench.ref.out",
                                                  event.model_dump_json().encode()))
        await asyncio.gather(*futures)
        for msg in msgs:
            await msg.ack()
        done += len(msgs)
    elapsed = time.perf_counter() - started
    for name in (IN, OUT):
        await js.delete_stream(name)
    return len(payloads) / elapsed
