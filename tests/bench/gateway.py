"""The gateway: ``GET /api/incidents`` latency and throughput with 10,000 incidents in the
store, and what a command costs through the REST API against the same command over NATS
(the CLI's path), beside the same-run reference hop.

Stack: incidents and the gateway as separate processes (as ``make up`` runs them, broker
authentication on) over one embedded nats-server; the incidents opened from accepted
alerts published directly on NATS, one incident per alert.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

from reasonops_contracts import Envelope, subjects
from reasonops_contracts.incidents import CommentIncident, IncidentOpened, IncidentView
from reasonops_contracts.ingest import EventAccepted
from reasonops_runtime.client import request
from reasonops_runtime.ports import free_port

from .access import operator, supervisor
from .http_load import Connection, closed_loop, open_loop, percentile
from .profile import Profile
from .reference import reference_hop

INCIDENTS = 10_000
LIST_RATE = 200
LIST_SECONDS = 15
COMMANDS = 400
PER_ALERT = "rules: []\ndefault: {group_by: [fingerprint]}\n"


def accepted(i: int) -> bytes:
    return Envelope.wrap(EventAccepted(
        fingerprint=f"gw{i:08d}", status="firing", name="HighErrorRate", severity="critical",
        service=("checkout", "search", "auth", "billing")[i % 4], resource=f"pod-{i}",
        summary="5xx ratio above 5%", labels={"alertname": "HighErrorRate"},
        received_at="2026-12-04T09:00:00Z", source_format="alertmanager"),
        source="ingest").to_bytes()


def get(path: str, token: str) -> bytes:
    return (f"GET {path} HTTP/1.1\r\nhost: bench\r\nauthorization: Bearer {token}\r\n"
            "\r\n").encode()


def post(path: str, token: str, body: bytes) -> bytes:
    return (f"POST {path} HTTP/1.1\r\nhost: bench\r\nauthorization: Bearer {token}\r\n"
            f"content-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
            ).encode() + body


async def bench(data_dir: Path) -> None:
    rules = data_dir / "per-alert-rules.yaml"
    rules.write_text(PER_ALERT)
    os.environ["REASONOPS_CORRELATION_RULES"] = str(rules)
    # One token makes every request here: lift its rate limit out of the way.
    os.environ["REASONOPS_RATE_LIMIT_PER_SECOND"] = "1000000"
    os.environ["REASONOPS_RATE_LIMIT_BURST"] = "1000000"
    gateway_port = free_port()
    stack = supervisor(data_dir=data_dir, nats_url=None, nats_port=free_port(),
                       nats_monitor_port=free_port(),
                       ports={"incidents": free_port(), "gateway": gateway_port})
    try:
        stack.start()
        nc = await operator(stack)
        ref = await reference_hop(nc, [accepted(0)] * 20_000)
        js = nc.jetstream(publish_async_max_pending=4000)
        futures = [await js.publish_async(subjects.INGEST_EVENT_ACCEPTED, accepted(i))
                   for i in range(INCIDENTS)]
        await asyncio.gather(*futures)
        while (await js.stream_info("INCIDENTS")).state.messages < INCIDENTS:
            await asyncio.sleep(0.2)
        token = stack.api_token_file.read_text().strip()
        print(f"\nGateway: {INCIDENTS:,} incidents in the store (reference hop "
              f"{ref:,.0f}/s)\n")

        page = get("/api/incidents?limit=50", token)
        pids = {c.name: c.process.pid for c in stack.children if c.process}
        if stack.nats is not None and stack.nats.process is not None:
            pids["nats-server"] = stack.nats.process.pid
        profile = Profile(pids, rate=100)
        profile.start()
        elapsed, statuses = await closed_loop("127.0.0.1", gateway_port, [page] * 2000,
                                              connections=16)
        profile.stop()
        print(f"  {'GET /api/incidents?limit=50, as fast as it goes':<52} "
              f"{2000 / elapsed:>8,.0f} req/s  {2000 / elapsed / ref * 1000:.1f} per 1k "
              f"reference msgs/s  {statuses}")
        print(f"  {'  CPU per request':<52} " + ", ".join(
            f"{name} {seconds / 2000 * 1000:.2f} ms" for name, seconds in
            sorted(profile.cpu.items())))
        total = LIST_RATE * LIST_SECONDS
        latencies, statuses = await open_loop("127.0.0.1", gateway_port, [page] * total,
                                              rate=LIST_RATE, connections=64)
        print(f"  {f'GET /api/incidents at {LIST_RATE} req/s for {LIST_SECONDS} s':<52} "
              f"p50 {percentile(latencies, 0.5) * 1000:6.1f} ms  "
              f"p99 {percentile(latencies, 0.99) * 1000:6.1f} ms  {statuses}")

        ids = [f"INC{i:07d}" for i in range(1, COMMANDS + 1)]
        over_nats = []
        for incident_id in ids:
            started = time.perf_counter()
            await request(nc, CommentIncident(incident_id=incident_id, note="over NATS"),
                          IncidentView)
            over_nats.append(time.perf_counter() - started)
        connection = await Connection.open("127.0.0.1", gateway_port)
        over_http = []
        body = b'{"note": "through the gateway"}'
        for incident_id in ids:
            started = time.perf_counter()
            status = await connection.send(post(f"/api/incidents/{incident_id}/comments",
                                                token, body))
            over_http.append(time.perf_counter() - started)
            assert status == 201, status
        connection.close()
        nats_ms = statistics.median(over_nats) * 1000
        http_ms = statistics.median(over_http) * 1000
        print(f"  {'a comment over NATS (as the CLI sends it)':<52} p50 {nats_ms:6.2f} ms  "
              f"p99 {percentile(over_nats, 0.99) * 1000:6.2f} ms")
        print(f"  {'the same through the gateway (HTTP, keep-alive)':<52} p50 {http_ms:6.2f} ms  "
              f"p99 {percentile(over_http, 0.99) * 1000:6.2f} ms")
        print(f"  {'gateway overhead per command (p50)':<52} {http_ms - nats_ms:+6.2f} ms")
        profile.report("GET /api/incidents, as fast as it goes", n=25)
        opened = await js.stream_info("INCIDENTS")
        assert opened.state.messages >= INCIDENTS, IncidentOpened.SUBJECT
        await nc.close()
    finally:
        stack.stop()


def run_gateway_bench() -> None:
    with tempfile.TemporaryDirectory(prefix="reasonops-bench-") as tmp:
        asyncio.run(bench(Path(tmp)))
