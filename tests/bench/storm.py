"""An alert storm with every service running (``make up``'s set, the gateway and all four
agents included) on one broker with authentication on, as a user runs it:

1. ingest alone, then with everything running: alerts accepted per second over HTTP;
   before that, the CPU the whole stack takes idle (every process, broker included);
2. end to end: N distinct firing alerts posted as fast as ingest takes them, until each
   is an incident with its SLA clocks and a triage decision, and every consumer is idle;
3. latency at a paced rate: accepted -> ``incident.opened`` at R alerts/s, and accepted
   -> triage decision recorded at D incidents/s (broker receive times, per message);
4. the storm: S incidents opened, then resolved by their senders (nobody acknowledges
   or closes them); the workflow instances still running afterwards, and the memory
   (RSS) and CPU of every service, with py-spy's top functions for the busiest (unless
   ``--no-profile``). Only the storm is sampled: samplers attached while a rate is
   measured would take their share of the same two cores.

Run alone: ``python -m tests.bench.run --suite storm`` (``--storm-incidents 100000``
for the issue's figure; the default keeps ``make bench`` short). The default 5,000
alerts of step 2 are posted in about a second, before the chain behind ingest has
taken its share of the CPU: ``--storm-alerts 20000`` measures ingest beside a chain
that is running.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from reasonops_cli.run import installed_services
from reasonops_contracts import Envelope
from reasonops_contracts.agents import AgentDecisionRecorded
from reasonops_contracts.incidents import IncidentOpened
from reasonops_contracts.ingest import EventAccepted
from reasonops_contracts.workflows import ListWorkflowInstances, WorkflowInstanceList
from reasonops_runtime.client import request
from reasonops_runtime.ports import free_port

from .access import operator, supervisor
from .profile import Profile, cpu_seconds, rss_mb
from .reference import reference_hop

STREAMS = ("INGEST", "INCIDENTS", "SLM", "FINANCE", "AGENTS", "WORKFLOWS")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--storm-alerts", type=int, default=5_000,
                        help="distinct alerts for the end-to-end figure")
    parser.add_argument("--storm-rate", type=float, default=1000,
                        help="alerts/s for the accepted -> opened latency")
    parser.add_argument("--decision-rate", type=float, default=100,
                        help="incidents/s for the accepted -> triage decision latency")
    parser.add_argument("--storm-incidents", type=int, default=5_000,
                        help="incidents opened and resolved by their senders in the storm")
    parser.add_argument("--idle-seconds", type=float, default=20,
                        help="how long the idle stack's CPU is measured")


def alerts(prefix: str, count: int, *, status: str = "firing") -> list[dict[str, Any]]:
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    return [{"status": status,
             "labels": {"alertname": "HighErrorRate", "service": f"svc-{n % 50}",
                        "severity": ("critical", "error", "warning")[n % 3],
                        "instance": f"{prefix}-{n}:9100", "job": "node", "team": "platform"},
             "annotations": {"summary": f"5xx ratio above 5% on {prefix}-{n}"},
             "startsAt": now, "endsAt": now if status == "resolved" else "0001-01-01T00:00:00Z",
             "fingerprint": f"{prefix}{n:012x}"} for n in range(count)]


def bodies(items: list[dict[str, Any]], per_post: int) -> list[bytes]:
    """One Alertmanager group per alert (its own groupKey): each is its own incident."""
    return [json.dumps({"version": "4", "status": chunk[0]["status"], "receiver": "reasonops",
                        "groupKey": f"{{}}:{{storm=\"{chunk[0]['fingerprint']}\"}}",
                        "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
                        "externalURL": "http://alertmanager:9093", "alerts": chunk}).encode()
            for chunk in (items[i:i + per_post] for i in range(0, len(items), per_post))]


RULES = "rules: []\ndefault: {group_by: [fingerprint]}\n"
"""One incident per distinct alert, as in the chain suite."""


class Stack:
    def __init__(self, data_dir: Path) -> None:
        rules = data_dir / "rules.yaml"
        rules.write_text(RULES)
        import os
        os.environ["REASONOPS_CORRELATION_RULES"] = str(rules)
        self.data_dir = data_dir
        self.edge = supervisor(data_dir=data_dir, nats_url=None, nats_port=free_port(),
                               nats_monitor_port=free_port(), ports={"ingest": free_port()})
        self.rest: Any = None
        self.nc: Any = None

    async def start_edge(self) -> None:
        self.edge.start()
        self.nc = await operator(self.edge)

    def start_rest(self) -> None:
        """Every other service, on the edge's broker."""
        self.rest = supervisor(data_dir=self.data_dir, nats_url=self.edge.nats_url,
                               nats_port=0, nats_monitor_port=0,
                               ports={n: free_port() for n in installed_services()
                                      if n != "ingest"})
        self.rest.start()

    @property
    def children(self) -> list[Any]:
        return [*self.edge.children, *(self.rest.children if self.rest else [])]

    @property
    def url(self) -> str:
        return f"{self.edge.children[0].url}/v1/alertmanager"

    @property
    def key(self) -> str:
        return self.edge.ingest_key_file.read_text().strip()

    def pids(self) -> dict[str, int]:
        found = {c.name: c.process.pid for c in self.children if c.process}
        if self.edge.nats is not None and self.edge.nats.process is not None:
            found["nats-server"] = self.edge.nats.process.pid
        return found

    def metrics_urls(self) -> dict[str, str]:
        return {c.name: c.url for c in self.children}

    def stop(self) -> None:
        if self.rest is not None:
            self.rest.stop()
        self.edge.stop()


async def post(url: str, key: str, payloads: list[bytes], concurrency: int = 8,
               pace: float | None = None) -> float:
    """Post every body (202 expected); ``pace`` bodies per second, else as fast as it
    goes; returns the seconds it took."""
    queue = list(reversed(payloads))
    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=60, headers={
            "authorization": f"Bearer {key}", "content-type": "application/json"}) as client:
        async def worker() -> None:
            while queue:
                body = queue.pop()
                r = await client.post(url, content=body)
                if r.status_code != 202:
                    raise RuntimeError(f"ingest answered {r.status_code}: {r.text[:200]}")

        if pace is None:
            await asyncio.gather(*(worker() for _ in range(concurrency)))
        else:
            sent = []
            for n, body in enumerate(payloads):
                await asyncio.sleep(max(0.0, started + n / pace - time.perf_counter()))
                sent.append(asyncio.ensure_future(client.post(url, content=body)))
            for r in await asyncio.gather(*sent):
                if r.status_code != 202:
                    raise RuntimeError(f"ingest answered {r.status_code}: {r.text[:200]}")
    return time.perf_counter() - started


async def idle(nc: Any, timeout: float = 1800) -> None:
    """Every durable on the chain's streams has nothing pending or unacknowledged."""
    from .run import drained

    await drained(nc, STREAMS, timeout=timeout)


async def received(nc: Any, stream: str, subject: str) -> list[tuple[float, Envelope]]:
    """(broker receive time, envelope) of every message on ``subject``."""
    from .run import timestamps

    return list((await timestamps(nc, stream, subject)).values())


def percentiles(values: list[float]) -> str:
    if not values:
        return "no samples"
    values = sorted(values)
    p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
    return f"p50 {statistics.median(values):.1f} ms, p99 {p99:.1f} ms ({len(values)} samples)"


async def latencies(nc: Any, prefix: str) -> tuple[list[float], list[float]]:
    """accepted -> opened and accepted -> triage decision (ms) of ``prefix``'s alerts."""
    accepted = {env.correlation_id: at for at, env in await received(
        nc, "INGEST", EventAccepted.SUBJECT)
        if str(env.data.get("fingerprint", "")).startswith(prefix)}
    opened = [(at - accepted[env.correlation_id]) * 1000
              for at, env in await received(nc, "INCIDENTS", IncidentOpened.SUBJECT)
              if env.correlation_id in accepted]
    decided = [(at - accepted[env.correlation_id]) * 1000
               for at, env in await received(nc, "AGENTS", AgentDecisionRecorded.SUBJECT)
               if env.correlation_id in accepted and env.data.get("agent") == "triage"]
    return opened, decided


async def unfinished(nc: Any, metrics_url: str) -> tuple[WorkflowInstanceList, int, int]:
    """Up to 1,000 running instances, and how many run and queue in all (the
    orchestrator's ``reasonops_workflow_instances`` gauge, refreshed every 5 s)."""
    running = await request(nc, ListWorkflowInstances(state="running", limit=1000),
                            WorkflowInstanceList, timeout=30)
    counts = {"running": 0.0, "queued": 0.0}
    async with httpx.AsyncClient(timeout=10) as client:
        text = (await client.get(f"{metrics_url}/metrics")).text
    for line in text.splitlines():
        if line.startswith("reasonops_workflow_instances{"):
            labels, _, value = line.partition("} ")
            for state in counts:
                if f'state="{state}"' in labels:
                    counts[state] += float(value)
    return running, int(counts["running"]), int(counts["queued"])


async def settled(nc: Any, metrics_url: str, quiet: float = 20, timeout: float = 300
                  ) -> tuple[WorkflowInstanceList, int, int]:
    """Instances still running or queued once none finishes any more, none is left, or
    ``timeout`` passed: after the streams are idle, agents still work through their
    queues, and queued major-incident instances start as others finish (50 at a time)."""
    last, since = -1, time.monotonic()
    deadline = time.monotonic() + timeout
    while True:
        found = await unfinished(nc, metrics_url)
        count = found[1] + found[2]
        if count == 0 or time.monotonic() > deadline:
            return found
        if count != last:
            last, since = count, time.monotonic()
        elif time.monotonic() - since > quiet:
            return found
        await asyncio.sleep(2)


def waiting_on(running: WorkflowInstanceList) -> str:
    """"workflow: step, step" counts of what the running instances wait for."""
    found: dict[str, int] = {}
    for view in running.items:
        steps = ", ".join(s.step for s in view.steps if s.state in ("waiting", "retrying"))
        key = f"{view.workflow} on {steps or 'nothing'}"
        found[key] = found.get(key, 0) + 1
    return "; ".join(f"{n} {key}" for key, n in sorted(found.items(), key=lambda kv: -kv[1]))


async def idle_cpu(pids: dict[str, int], seconds: float) -> None:
    """Print the share of one core the stack takes with nothing to do (after a few
    seconds for every loop's first looks), in all and for the busiest processes."""
    await asyncio.sleep(5)
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    await asyncio.sleep(seconds)
    shares = sorted(((cpu_seconds(pid) - before[name]) / seconds * 100, name)
                    for name, pid in pids.items())
    print(f"  {'idle: the whole stack, % of one core':<58} {sum(s for s, _ in shares):>7.1f} "
          f"(" + ", ".join(f"{name} {share:.1f}" for share, name in reversed(shares[-4:]))
          + ")")


async def storm_bench(args: argparse.Namespace, data_dir: Path) -> None:
    stack = Stack(data_dir)
    try:
        await stack.start_edge()
        nc = stack.nc
        from .run import reference_sample

        ref = await reference_hop(nc, [reference_sample()] * 20_000)
        n = args.storm_alerts
        print(f"\nStorm: every service running ({len(installed_services())} services), "
              f"reference hop {ref:,.0f} msgs/s")
        alone = n / await post(stack.url, stack.key, bodies(alerts("alone", n, status="resolved"),
                                                             100))
        stack.start_rest()
        await idle(nc)
        await idle_cpu(stack.pids(), args.idle_seconds)

        # Counters only while rates are measured; the storm below is sampled.
        profile = Profile(stack.pids(), stack.metrics_urls(), sample=False)
        profile.start()
        started = time.perf_counter()
        taken = n / await post(stack.url, stack.key, bodies(alerts("e2e", n), 100))
        await idle(nc)
        elapsed = time.perf_counter() - started
        profile.stop()
        print(f"  {'ingest alone: alerts accepted (HTTP, 100 a POST)':<58} {alone:>8,.0f}/s")
        # Over a short post the chain has barely started: the window says how far in.
        print(f"  {'ingest with every service running':<58} {taken:>8,.0f}/s "
              f"{taken / alone:>5.2f}x alone ({n:,} alerts in {n / taken:.1f} s)")
        print(f"  {'end to end: alerts -> incidents, SLA clocks, triage':<58} "
              f"{n / elapsed:>8,.0f}/s {n / elapsed / ref:>5.2f}x reference")
        profile.report("end to end")

        rate = args.storm_rate
        await post(stack.url, stack.key, bodies(alerts("lat", int(rate * 5)), 10),
                   pace=rate / 10)
        await idle(nc)
        opened, _ = await latencies(nc, "lat")
        print(f"  {f'accepted -> incident.opened at {rate:,.0f} alerts/s':<58} "
              f"{percentiles(opened)}")
        rate = args.decision_rate
        await post(stack.url, stack.key, bodies(alerts("dec", int(rate * 10)), 1), pace=rate)
        await idle(nc)
        _, decided = await latencies(nc, "dec")
        print(f"  {f'accepted -> triage decision at {rate:,.0f} incidents/s':<58} "
              f"{percentiles(decided)}")

        s = args.storm_incidents
        profile = Profile(stack.pids(), stack.metrics_urls(), sample=args.profile)
        profile.start()
        started = time.perf_counter()
        await post(stack.url, stack.key, bodies(alerts("storm", s), 100))
        await idle(nc)
        for prefix, count in (("e2e", n), ("lat", int(args.storm_rate * 5)),
                              ("dec", int(args.decision_rate * 10)), ("storm", s)):
            await post(stack.url, stack.key,
                       bodies(alerts(prefix, count, status="resolved"), 100))
        await idle(nc)
        took = time.perf_counter() - started
        # Queued major-incident instances start as others finish, and post-incident
        # reviews run as effects, after the streams are idle: wait for the count to settle.
        print(f"  {f'storm: {s:,} incidents opened and resolved by their senders':<58} "
              f"{took:>7.1f} s (streams idle)")
        metrics = stack.metrics_urls()["orchestrator"]
        await asyncio.sleep(6)  # the gauge's refresh
        running, active, queued = await unfinished(nc, metrics)
        print(f"  {'workflow instances running / queued then':<58} "
              f"{active:>8,} / {queued:,}"
              + (f" ({waiting_on(running)})" if running.items else ""))
        running, active, queued = await settled(nc, metrics)
        profile.stop()
        print(f"  {'running / queued once nothing more finishes':<58} "
              f"{active:>8,} / {queued:,}, {time.perf_counter() - started - took:.0f} s later"
              + (f" ({waiting_on(running)})" if running.items else ""))
        print("  RSS per process after the storm (MB): " + ", ".join(
            f"{name} {rss_mb(pid):.0f}" for name, pid in sorted(stack.pids().items())))
        profile.report("the storm")
        await nc.close()
    finally:
        stack.stop()


def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="reasonops-bench-storm-") as tmp:
        asyncio.run(storm_bench(args, Path(tmp)))
