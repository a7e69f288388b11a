"""What broker authentication itself costs: the incidents hop's broker work (ingest
publishing accepted alerts, incidents fetching and acking them) on a nats-server
configured as ``make up`` configures it, each as its own identity, against the same on
a server without authorization; alternated on, off, off, on, on, off."""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from reasonops_cli.credentials import ensure_identities, seed_file, server_config_file
from reasonops_cli.natsd import EmbeddedNats
from reasonops_contracts.ingest import EventAccepted
from reasonops_runtime.broker import connect
from reasonops_runtime.broker_auth import BrokerAuth
from reasonops_runtime.jetstream import ensure_streams
from reasonops_runtime.ports import free_port

BODY = b"x" * 600  # about an accepted alert's envelope


async def _once(auth: bool, n: int) -> tuple[float, float]:
    folder = Path(tempfile.mkdtemp(prefix="reasonops-bench-auth-"))
    ensure_identities(folder)

    def key(identity: str) -> BrokerAuth:
        return BrokerAuth(seed_file(folder, identity) if auth else None)

    server = EmbeddedNats(folder / "js", port=free_port(), monitor_port=None,
                          config=server_config_file(folder) if auth else None)
    server.start()
    try:
        operator = await connect(server.url, auth=key("operator"))
        await ensure_streams(operator.jetstream())
        ingest = await connect(server.url, auth=key("ingest"), identity="ingest")
        js = ingest.jetstream(publish_async_max_pending=4000)
        started = time.perf_counter()
        for _ in range(0, n, 4000):
            await asyncio.gather(*[await js.publish_async(EventAccepted.SUBJECT, BODY)
                                   for _ in range(4000)])
        published = n / (time.perf_counter() - started)
        incidents = await connect(server.url, auth=key("incidents"), identity="incidents")
        sub = await incidents.jetstream().pull_subscribe(
            EventAccepted.SUBJECT, durable="incidents", stream="INGEST")
        started, got = time.perf_counter(), 0
        while got < n:
            for msg in (batch := await sub.fetch(256, timeout=5)):
                await msg.ack()
            got += len(batch)
        consumed = n / (time.perf_counter() - started)
        for nc in (ingest, incidents, operator):
            await nc.close()
        return published, consumed
    finally:
        server.stop()


async def broker_auth_bench(n: int = 40_000) -> None:
    runs: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    for auth in (True, False, False, True, True, False):
        runs[auth].append(await _once(auth, n))
    print(f"\nBroker authentication alone ({n:,} messages, mean of 3 runs each, "
          "alternated)")
    for i, label in enumerate(("ingest publishes accepted alerts",
                               "incidents fetches and acks them")):
        on = statistics.fmean(r[i] for r in runs[True])
        off = statistics.fmean(r[i] for r in runs[False])
        print(f"  {label:<48} on {on:>8,.0f}/s  off {off:>8,.0f}/s  "
              f"{(on / off - 1) * 100:>+6.1f}%")
