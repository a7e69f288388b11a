"""Ingest throughput and acceptance latency (``make bench``, or
``python -m tests.bench.ingest``).

Ingest runs as its own process, as ``reasonops up`` runs it, first with only the
broker beside it, then with every service running. Per setting:

- HTTP, Alertmanager webhooks of 100 alerts each: alerts accepted (202) per second;
- HTTP, one ReasonOps event per request: requests accepted per second;
- NATS, one event per message on ``itsm.ingest.raw.event``: events normalised per second,
  once while the sender publishes them, once draining a stream filled beforehand (ingest's
  consumer paused meanwhile), which is how the reference hop is measured;
- HTTP, single events paced at a fixed rate (open loop): acceptance latency p50/p99.

Every 202 means JetStream acknowledged every event of the request.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from pathlib import Path

import nats

from reasonops_cli.run import installed_services
from reasonops_cli.supervisor import Supervisor
from reasonops_contracts import Envelope, subjects
from reasonops_contracts.ingest import EventAccepted
from reasonops_contracts.streams import INGEST
from reasonops_ingest.handlers import RAW_CONSUMER
from reasonops_runtime.ports import free_port

from .access import operator, supervisor
from .http_load import closed_loop, open_loop, percentile, post
from .load import alert, webhooks
from .reference import reference_hop

HOST = "127.0.0.1"


def events(count: int, prefix: str) -> list[bytes]:
    return [json.dumps({"name": "HighErrorRate", "severity": "error", "service": f"svc-{i % 50}",
                        "resource": f"{prefix}-host-{i % 2000}", "summary": "5xx above 5%",
                        "labels": {"team": "platform", "env": "prod"}}).encode()
            for i in range(count)]


async def accepted_count(nc: nats.NATS) -> int:
    info = await nc.jetstream().stream_info("INGEST", subjects_filter=EventAccepted.SUBJECT)
    return int((info.state.subjects or {}).get(EventAccepted.SUBJECT, 0))


class CpuMeter:
    """CPU seconds the ingest process spent (Linux /proc; elsewhere nothing is shown).

    On a shared machine throughput moves with the neighbours' load; the ingest
    process's CPU time per event moves far less, so it is printed beside each figure."""

    def __init__(self, pid: int) -> None:
        self.stat = Path(f"/proc/{pid}/stat")
        self.mark = self.read()

    def read(self) -> float | None:
        try:
            fields = self.stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def per(self, count: int) -> str:
        """CPU microseconds per unit since the last call."""
        now, before = self.read(), self.mark
        self.mark = now
        if now is None or before is None or not count:
            return ""
        return f"  ingest CPU {(now - before) / count * 1e6:,.0f} us each"


def show(label: str, value: float, unit: str, statuses: dict[int, int] | None = None,
         reference: float | None = None, cpu: str = "") -> None:
    ratio = f"{value / reference:6.2f} x reference" if reference else ""
    bad = {s: n for s, n in (statuses or {}).items() if s != 202}
    note = f"  NOT ACCEPTED: {bad}" if bad else ""
    print(f"  {label:<52} {value:>10,.0f} {unit:<10} {ratio}{cpu}{note}")


async def measure(sup: Supervisor, args: argparse.Namespace, reference: float,
                  tag: str) -> None:
    port = next(c.port for c in sup.children if c.name == "ingest")
    key = sup.ingest_key_file.read_text().strip()
    headers = {"authorization": f"Bearer {key}", "content-type": "application/json"}
    nc = await operator(sup)
    ingest = next(c for c in sup.children if c.name == "ingest")
    requests = [post("/v1/alertmanager", b, headers)
                for b in webhooks(args.alerts, args.fingerprints, 100, f"{tag}-batch")]
    singles = [post("/v1/events", b, headers) for b in events(args.requests, f"{tag}-one")]
    cpu = CpuMeter(ingest.process.pid if ingest.process else 0)

    elapsed, statuses = await closed_loop(HOST, port, requests, connections=args.connections)
    show("HTTP, 100 alerts per request: alerts accepted", args.alerts / elapsed, "alerts/s",
         statuses, reference, cpu.per(args.alerts))

    cpu.per(0)
    elapsed, statuses = await closed_loop(HOST, port, singles, connections=args.connections)
    show("HTTP, one event per request: requests accepted", args.requests / elapsed, "req/s",
         statuses, reference, cpu.per(args.requests))

    js = nc.jetstream(publish_async_max_pending=4000)
    before = await accepted_count(nc)
    raw = events(args.nats_events, f"{tag}-nats")
    cpu.per(0)
    started = time.perf_counter()
    for i in range(0, len(raw), 2000):
        await asyncio.gather(*[await js.publish_async(subjects.INGEST_RAW_EVENT, body)
                               for body in raw[i:i + 2000]])
    while await accepted_count(nc) < before + len(raw):
        await asyncio.sleep(0.02)
    show("NATS, one event per message: events normalised",
         len(raw) / (time.perf_counter() - started), "events/s", reference=reference,
         cpu=cpu.per(len(raw)))

    # The reference hop drains a stream filled before its clock starts; so does this.
    raw = events(args.nats_events, f"{tag}-filled")
    await js.pause_consumer(INGEST.name, RAW_CONSUMER, "2999-01-01T00:00:00Z")
    for i in range(0, len(raw), 2000):
        await asyncio.gather(*[await js.publish_async(subjects.INGEST_RAW_EVENT, body)
                               for body in raw[i:i + 2000]])
    before = await accepted_count(nc)
    cpu.per(0)
    started = time.perf_counter()
    await js.resume_consumer(INGEST.name, RAW_CONSUMER)
    while await accepted_count(nc) < before + len(raw):
        await asyncio.sleep(0.02)
    show("NATS, a filled stream drained (as the reference)",
         len(raw) / (time.perf_counter() - started), "events/s", reference=reference,
         cpu=cpu.per(len(raw)))

    paced = [post("/v1/events", b, headers)
             for b in events(int(args.rate * args.seconds), f"{tag}-paced")]
    cpu.per(0)
    latencies, statuses = await open_loop(HOST, port, paced, rate=args.rate)
    print(f"  {'HTTP, one event per request, paced at ' + f'{args.rate:,.0f}/s':<52} "
          f"p50 {percentile(latencies, 0.5) * 1000:.1f} ms, "
          f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms, "
          f"max {max(latencies) * 1000:.1f} ms ({len(latencies):,} requests)"
          + cpu.per(len(paced))
          + (f"  NOT ACCEPTED: {statuses}" if set(statuses) != {202} else ""))
    await nc.close()


async def bench(args: argparse.Namespace, data_dir: Path) -> None:
    everything = tuple(installed_services())
    settings = [("ingest and the broker only", ("ingest",)),
                ("every service running", everything)]
    reference = 0.0
    for n, (label, names) in enumerate(settings):
        sup = supervisor(data_dir=data_dir / str(n), nats_url=None, nats_port=free_port(),
                         nats_monitor_port=free_port(),
                         ports={name: free_port() for name in names})
        try:
            sup.start()
            if not reference:
                nc = await operator(sup)
                sample = Envelope.wrap(EventAccepted.model_validate({
                    **{k: v for k, v in alert(0, 1).items() if k in ("labels", "annotations")},
                    "fingerprint": "f" * 16, "status": "firing", "name": "HighErrorRate",
                    "severity": "critical", "summary": "5xx ratio above 5%",
                    "received_at": "2026-11-20T09:00:00Z", "source_format": "alertmanager"}),
                    source="ingest").to_bytes()
                reference = await reference_hop(nc, [sample] * args.nats_events)
                await nc.close()
                print(f"\nIngest benchmark ({args.connections} client connections)\n"
                      f"  {'reference hop (nats-py, fetch 100, publish_async)':<52} "
                      f"{reference:>10,.0f} msgs/s")
            print(f"\n {label}:")
            await measure(sup, args, reference, f"s{n}")
        finally:
            sup.stop()


def arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--ingest-alerts", dest="alerts", type=int, default=50_000)
    parser.add_argument("--ingest-requests", dest="requests", type=int, default=10_000)
    parser.add_argument("--ingest-nats-events", dest="nats_events", type=int, default=20_000)
    parser.add_argument("--ingest-rate", dest="rate", type=float, default=1000.0,
                        help="requests/s for the latency figure")
    parser.add_argument("--ingest-seconds", dest="seconds", type=float, default=5.0)
    parser.add_argument("--ingest-connections", dest="connections", type=int, default=32)
    parser.add_argument("--ingest-fingerprints", dest="fingerprints", type=int, default=2_000)
    return parser


def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="reasonops-bench-ingest-") as tmp:
        asyncio.run(bench(args, Path(tmp)))


if __name__ == "__main__":
    run(arguments(argparse.ArgumentParser(description=__doc__)).parse_args())
