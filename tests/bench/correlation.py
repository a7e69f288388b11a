"""Correlation benchmark: alerts through the running incident service's correlation rules.

``python -m tests.bench.correlation`` (also run by ``make bench``):
Before each measured step the reference hop (nats-py, fetch 100, publish_async) runs on
the same broker, and the step's rate is printed as a ratio to it.
1. 10,000 alerts over 500 groups, as a backlog, through a freshly started incident service;
2. 100,000 alerts over 5,000 groups (4 hosts per group, create_on 2 alerts, resolve_on
   all): alerts/s through correlation, and the rate per 10,000-alert slice as it runs;
3. p99 decision latency: paced alerts, each opening an incident, accepted -> opened;
4. every incident closed, then 10,000 more alerts over 500 new groups: the rate with
   5,500 closed incidents behind it, to compare with step 1.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from reasonops_cli.supervisor import Supervisor
from reasonops_contracts import Envelope, subjects
from reasonops_contracts.incidents import (
    CloseIncident,
    IncidentList,
    IncidentView,
    ListIncidents,
    ResolveIncident,
)
from reasonops_contracts.ingest import EventAccepted
from reasonops_runtime.client import request
from reasonops_runtime.jetstream import ensure_streams
from reasonops_runtime.ports import free_port

from .access import operator, supervisor
from .reference import reference_hop

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
HOSTS = 4
RULES = """
rules:
  - name: latency
    match: ["bench=latency"]
    group_by: [fingerprint]
  - name: cluster
    match: ["cluster"]
    group_by: [cluster, alertname]
    window: 10m
    create_on: {alerts: 2}
    resolve_on: all
"""


def storm(prefix: str, groups: int, per_group: int = 20) -> list[bytes]:
    """``per_group`` alerts per group: rounds of firing over 4 hosts, then resolves; groups
    interleaved, as in a real storm."""
    rounds = per_group // HOSTS - 1
    out = []
    for r in range(rounds + 1):
        for g in range(groups):
            for h in range(HOSTS):
                status = "firing" if r < rounds else "resolved"
                at = T0 + timedelta(milliseconds=r * 1000 + g)
                event = EventAccepted(
                    fingerprint=f"{prefix}-{g}-{h}", status=status, name="HighErrorRate",
                    severity=("critical", "error", "warning")[g % 3], service=f"svc-{g % 50}",
                    resource=f"{prefix}-host-{g}-{h}", summary=f"5xx on {prefix}-host-{g}-{h}",
                    labels={"alertname": "HighErrorRate", "cluster": f"{prefix}-{g}",
                            "instance": f"{prefix}-host-{g}-{h}:9100", "team": "platform"},
                    received_at=at, source_format="alertmanager")
                out.append(Envelope.wrap(event, source="ingest").to_bytes())
    return out


async def publish(nc, payloads: list[bytes]) -> None:
    js = nc.jetstream(publish_async_max_pending=4000)
    for i in range(0, len(payloads), 4000):
        futures = [await js.publish_async(subjects.INGEST_EVENT_ACCEPTED, p)
                   for p in payloads[i:i + 4000]]
        await asyncio.gather(*futures)


def incidents_service(data_dir: Path, nats_url: str) -> Supervisor:
    return supervisor(data_dir=data_dir, nats_url=nats_url, nats_port=0, nats_monitor_port=0,
                      ports={"incidents": free_port()})


async def drain_timed(nc, total: int, slice_size: int = 10_000) -> tuple[float, list[float]]:
    """Seconds until the incident consumer drained ``total`` alerts, and alerts/s per slice."""
    js = nc.jetstream()
    started = last = time.perf_counter()
    marks: list[float] = []
    while True:
        info = await js.consumer_info("INGEST", "incidents")
        left = (info.num_pending or 0) + (info.num_ack_pending or 0)
        done = total - left
        now = time.perf_counter()
        while len(marks) < done // slice_size:
            marks.append(slice_size / max(now - last, 1e-9))
            last = now
        if left == 0:
            return now - started, marks
        await asyncio.sleep(0.02)


async def phase(nc, data_dir: Path, url: str, payloads: list[bytes], label: str,
                reference: int) -> float:
    """The reference hop right before the phase, so both see the same machine load."""
    ref = await reference_hop(nc, payloads[:reference])
    print(f"  {'reference hop (nats-py, fetch 100, publish_async)':<52} {ref:>9,.0f}/s")
    await publish(nc, payloads)
    sup = incidents_service(data_dir, url)
    sup.start()
    try:
        elapsed, slices = await drain_timed(nc, len(payloads))
    finally:
        sup.stop()
    rate = len(payloads) / elapsed
    print(f"  {label:<52} {rate:>9,.0f}/s {rate / ref:>6.2f} x reference")
    if len(slices) > 1:
        print(f"  {'':<4}per 10,000-alert slice: "
              + " ".join(f"{s:,.0f}" for s in slices))
    return rate


async def close_everything(nc) -> int:
    closed = 0
    while True:
        page = await request(nc, ListIncidents(states=["new", "acknowledged", "resolved"],
                                               limit=1000), IncidentList, timeout=30)
        if not page.items:
            return closed
        async def close(incident_id: str, state: str) -> None:
            steps = (ResolveIncident, CloseIncident) if state != "resolved" else (
                CloseIncident,)
            for command in steps:
                await request(nc, command(incident_id=incident_id, actor="bench"),
                              IncidentView, timeout=30)

        for i in range(0, len(page.items), 20):
            await asyncio.gather(*(close(x.incident_id, x.state)
                                   for x in page.items[i:i + 20]))
        closed += len(page.items)


async def bench(args: argparse.Namespace, data_dir: Path) -> None:
    rules = data_dir / "rules.yaml"
    rules.write_text(RULES)
    os.environ["REASONOPS_CORRELATION_RULES"] = str(rules)
    edge = supervisor(data_dir=data_dir, nats_url=None, nats_port=free_port(),
                      nats_monitor_port=free_port(), ports={})
    edge.start()
    try:
        nc = await operator(edge)
        await ensure_streams(nc.jetstream())
        big = storm("big", args.groups)
        print(f"\nCorrelation benchmark: {len(big):,} alerts over {args.groups:,} groups "
              f"({HOSTS} hosts each, create_on 2 alerts, resolve_on all)\n")
        ref = args.correlation_reference
        small = storm("small", args.groups // 10)
        await phase(nc, data_dir, edge.nats_url, small, f"{len(small):,} alerts, fresh store",
                    ref)
        await phase(nc, data_dir, edge.nats_url, big, f"{len(big):,} alerts", ref)

        sup = incidents_service(data_dir, edge.nats_url)
        sup.start()
        try:
            await latency(nc, args)
            closed = await close_everything(nc)
            print(f"  {'':<4}({closed:,} incidents closed)")
        finally:
            sup.stop()
        after = storm("after", args.groups // 10)
        await phase(nc, data_dir, edge.nats_url, after,
                    f"{len(after):,} alerts, after {closed:,} closed incidents", ref)
        await nc.close()
    finally:
        edge.stop()


async def latency(nc, args: argparse.Namespace) -> None:
    """Accepted -> incident.opened for paced alerts, each opening an incident."""
    from .run import drained, timestamps  # run.py registers this module: import late

    js = nc.jetstream()
    for i in range(args.decision_latency_alerts):
        event = EventAccepted(fingerprint=f"lat-{i}", status="firing", name="Latency",
                              severity="warning", service="svc", resource=f"lat-{i}",
                              summary="latency probe", labels={"bench": "latency"},
                              received_at=datetime.now(UTC), source_format="event")
        envelope = Envelope.wrap(event, source="ingest")
        await js.publish(subjects.INGEST_EVENT_ACCEPTED, envelope.to_bytes(),
                         headers=envelope.headers())
        await asyncio.sleep(1 / args.decision_latency_rate)
    await drained(nc, ("INGEST",), skip=("ref",))
    accepted = await timestamps(nc, "INGEST", subjects.INGEST_EVENT_ACCEPTED)
    opened = await timestamps(nc, "INCIDENTS", subjects.INCIDENT_OPENED)
    lat = sorted((ts - accepted[env.causation_id][0]) * 1000 for ts, env in opened.values()
                 if env.causation_id in accepted
                 and accepted[env.causation_id][1].data["fingerprint"].startswith("lat-"))
    if lat:
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
        print(f"  {'decision latency accepted -> incident.opened':<52} p50 "
              f"{statistics.median(lat):.1f} ms, p99 {p99:.1f} ms ({len(lat)} alerts at "
              f"~{args.decision_latency_rate:.0f}/s)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--groups", type=int, default=5_000,
                        help="correlation groups; 20 alerts each")
    parser.add_argument("--correlation-reference", type=int, default=50_000,
                        help="messages through the reference hop for the correlation ratio")
    parser.add_argument("--decision-latency-alerts", type=int, default=300)
    parser.add_argument("--decision-latency-rate", type=float, default=100)


def main(args: argparse.Namespace | None = None) -> None:
    if args is None:
        parser = argparse.ArgumentParser(description=__doc__)
        add_arguments(parser)
        args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="reasonops-bench-correlation-") as tmp:
        asyncio.run(bench(args, Path(tmp)))


if __name__ == "__main__":
    main()
