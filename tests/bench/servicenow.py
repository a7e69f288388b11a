"""The ServiceNow sync keeping up with incidents opening at 50 a second, with every
service running, against a local server speaking the Table API (optionally answering
each request after ``--servicenow-latency`` ms, as a real instance takes its time).
Figures: records created, incident opened -> record created (p50, p99), requests per
incident by method, the most requests in one second and at once (ServiceNow serves an
integration user's REST calls from a small pool per node; the sync sends at most
``REASONOPS_SERVICENOW_CONCURRENCY``, 4), and the sync's CPU and memory afterwards.

Run alone: ``python -m tests.bench.run --suite servicenow`` (``--servicenow-incidents``,
``--servicenow-seconds``, ``--servicenow-latency``)."""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import tempfile
import time
from pathlib import Path

from reasonops_cli.run import installed_services
from reasonops_contracts.incidents import IncidentOpened
from tests.fake_servicenow import PASSWORD, USER, FakeServiceNow

from .profile import Profile, cpu_seconds, rss_mb
from .reference import reference_hop
from .storm import Stack, alerts, bodies, idle, percentiles, post, received

MAPPING = """\
sync: [{priorities: [1, 2, 3, 4, 5]}]
"""
"""Every incident is synced (the default fields), so each one opening is one record."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--servicenow-incidents", type=int, default=1_500,
                        help="incidents opened, each synced to ServiceNow")
    parser.add_argument("--servicenow-seconds", type=float, default=30,
                        help="over how many seconds they open")
    parser.add_argument("--servicenow-latency", default="0,50",
                        help="ms each ServiceNow answer takes; one run per value")


async def servicenow_bench(args: argparse.Namespace, data_dir: Path, latency_ms: float
                           ) -> None:
    fake = await FakeServiceNow().start()
    fake.latency = latency_ms / 1000
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "mapping.yaml").write_text(MAPPING)
    os.environ.update(REASONOPS_SERVICENOW_URL=fake.url, REASONOPS_SERVICENOW_USER=USER,
                      REASONOPS_SERVICENOW_PASSWORD=PASSWORD,
                      REASONOPS_SERVICENOW_MAPPING=str(data_dir / "mapping.yaml"))
    stack = Stack(data_dir)
    try:
        await stack.start_edge()
        nc = stack.nc
        from .run import reference_sample

        ref = await reference_hop(nc, [reference_sample()] * 20_000)
        stack.start_rest()
        await idle(nc)
        pids = stack.pids()
        pid = pids["servicenow"]
        cpu_before = {name: cpu_seconds(p) for name, p in pids.items()}
        started = time.monotonic()
        profile = Profile({"servicenow": pid})
        if args.profile:
            profile.start()
        n, seconds = args.servicenow_incidents, args.servicenow_seconds
        print(f"\nServiceNow sync: every service running ({len(installed_services())} "
              f"services), ServiceNow answering in {latency_ms:.0f} ms, reference hop "
              f"{ref:,.0f} msgs/s")
        took = await post(stack.url, stack.key, bodies(alerts("sn", n), 1), pace=n / seconds)
        deadline = time.monotonic() + 300
        while len(fake.created_at) < n and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
        await idle(nc)
        if args.profile:
            profile.stop()
        opened = {env.data["incident_id"]: at
                  for at, env in await received(nc, "INCIDENTS", IncidentOpened.SUBJECT)}
        lag = [(fake.created_at[i] - at) * 1000 for i, at in opened.items()
               if i in fake.created_at]
        methods = collections.Counter(m for m, *_ in fake.requests)
        per_second = collections.Counter(int(t) for t in fake.sent_at)
        records = len(fake.incidents())
        tail = max(fake.created_at.values(), default=0.0) - max(opened.values(), default=0.0)
        print(f"  {n:,} incidents in {took:.0f} s ({n / took:.1f}/s); records created "
              f"{records:,} ({len(fake.created_at):,} distinct), the last {tail:.1f} s after "
              "the last incident opened")
        print(f"  incident opened -> ServiceNow record  {percentiles(lag)}")
        print(f"  requests per incident                 {len(fake.requests) / max(1, n):.2f} "
              f"({', '.join(f'{m} {c / max(1, n):.2f}' for m, c in sorted(methods.items()))})")
        print(f"  most requests in a second, at once    {max(per_second.values(), default=0)}, "
              f"{fake.most_in_flight}")
        print(f"  sync CPU over the run, RSS afterwards "
              f"{cpu_seconds(pid) - cpu_before['servicenow']:.1f} s, {rss_mb(pid):.0f} MB")
        wall = time.monotonic() - started
        used = sorted(((cpu_seconds(p) - cpu_before[n], n) for n, p in pids.items()),
                      reverse=True)
        print(f"  machine: {sum(u for u, _ in used) / wall:.2f} of 2 cores busy over "
              f"{wall:.0f} s; most: " + ", ".join(f"{n} {u:.1f} s" for u, n in used[:4]))
        rows = profile.top("servicenow") if args.profile else []
        if rows:
            print("  the sync's top functions by own samples (on stack / own)")
            for function, on_stack, own in rows:
                print(f"    {own:>6.1%} {on_stack:>6.1%}  {function[:100]}")
    finally:
        stack.stop()
        await fake.stop()


def run(args: argparse.Namespace) -> None:
    for latency in (float(v) for v in str(args.servicenow_latency).split(",") if v):
        with tempfile.TemporaryDirectory(prefix="reasonops-bench-") as tmp:
            asyncio.run(servicenow_bench(args, Path(tmp) / "servicenow", latency))
