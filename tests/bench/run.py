"""``make bench``: ReasonOps throughput and latency, next to a hand-written reference hop.

Phases, each on the real services as separate processes over one embedded nats-server:
1. ingest alone: N alerts over HTTP, then N alerts published directly on NATS;
2. incidents started on the backlog of 2N accepted alerts (F distinct fingerprints);
3. slm, finance, orchestrator and agent-triage started on the backlog of F incidents;
4. everything running: paced fresh alerts, latency from accepted to incident.opened.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import nats

from reasonops_cli.supervisor import Supervisor
from reasonops_contracts import Envelope, subjects
from reasonops_contracts.incidents import IncidentOpened
from reasonops_contracts.ingest import EventAccepted
from reasonops_runtime.ports import free_port

from . import correlation, paging, servicenow, storm
from . import ingest as ingest_bench
from .access import AUTH, operator, supervisor
from .load import alert, webhooks
from .profile import Profile
from .reference import reference_hop
from .tracing import tracing_bench

DOWNSTREAM = ("slm", "finance", "orchestrator", "agent-triage")


def _ports(names: tuple[str, ...]) -> dict[str, int]:
    return {name: free_port() for name in names}


async def drained(nc, streams: tuple[str, ...], *, skip: tuple[str, ...] = (),
                  timeout: float = 600) -> None:
    """Wait until every durable consumer on ``streams`` has nothing pending or unacked."""
    jsm = nc.jetstream()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = False
        for stream in streams:
            for info in await jsm.consumers_info(stream):
                if info.name in skip:
                    continue
                if info.num_pending or info.num_ack_pending:
                    busy = True
        if not busy:
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("consumers did not drain")


async def stream_count(nc, stream: str, subject: str) -> int:
    info = await nc.jetstream().stream_info(stream, subjects_filter=subject)
    return int((info.state.subjects or {}).get(subject, 0))


async def post_all(url: str, bodies: list[bytes], concurrency: int = 8,
                   key: str = "") -> None:
    queue = list(reversed(bodies))
    async with httpx.AsyncClient(timeout=60, headers={"authorization": f"Bearer {key}"}
                                 ) as client:
        async def worker() -> None:
            while queue:
                body = queue.pop()
                r = await client.post(url, content=body,
                                      headers={"content-type": "application/json"})
                if r.status_code != 202:
                    raise RuntimeError(f"ingest answered {r.status_code}: {r.text[:200]}")
        await asyncio.gather(*(worker() for _ in range(concurrency)))


async def wait_count(nc, stream: str, subject: str, expected: int, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while await stream_count(nc, stream, subject) < expected:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{subject} never reached {expected}")
        await asyncio.sleep(0.02)


async def timestamps(nc, stream: str, subject: str) -> dict[str, tuple[float, Envelope]]:
    """Envelope id -> (server receive time, envelope) for every message on ``subject``."""
    js = nc.jetstream()
    sub = await js.pull_subscribe(subject, stream=stream)
    found: dict[str, tuple[float, Envelope]] = {}
    while True:
        try:
            msgs = await sub.fetch(2000, timeout=1)
        except (TimeoutError, nats.errors.TimeoutError):
            break
        for msg in msgs:
            envelope = Envelope.from_bytes(msg.data)
            found[envelope.id] = (msg.metadata.timestamp.timestamp(), envelope)
            await msg.ack()
    await sub.unsubscribe()
    return found


def reference_sample() -> bytes:
    """An accepted alert as the reference hop reads it."""
    return Envelope.wrap(EventAccepted.model_validate({
        **{k: v for k, v in alert(0, 1).items() if k in ("labels", "annotations")},
        "fingerprint": "f" * 16, "status": "firing", "name": "HighErrorRate",
        "severity": "critical", "summary": "5xx ratio above 5%",
        "received_at": "2026-11-20T09:00:00Z", "source_format": "alertmanager"}),
        source="ingest").to_bytes()


FIGURES: dict[str, float] = {}
"""This run's figures as ratios to its reference hop, by label (to compare auth on/off)."""


def show(label: str, value: float, reference: float, unit: str = "/s") -> None:
    print(f"  {label:<48} {value:>10,.0f}{unit:<4} {value / reference:>6.2f} x reference")
    FIGURES[label] = value / reference


PER_ALERT = "rules: []\ndefault: {group_by: [fingerprint]}\n"
"""The chain's load is one incident per distinct alert (F fingerprints, F incidents), as
before incidents grouped what a sender grouped: the webhooks here are one Alertmanager
group, which by default would be one incident."""


async def bench(args: argparse.Namespace, data_dir: Path) -> None:
    n, f = args.alerts, args.fingerprints
    rules = data_dir / "per-alert-rules.yaml"
    rules.write_text(PER_ALERT)
    os.environ["REASONOPS_CORRELATION_RULES"] = str(rules)
    nats_port = free_port()
    edge = supervisor(data_dir=data_dir, nats_url=None, nats_port=nats_port,
                      nats_monitor_port=free_port(), ports=_ports(("ingest",)))
    others: list[Supervisor] = []
    try:
        edge.start()
        nc = await operator(edge)
        ingest_url = f"{edge.children[0].url}/v1/alertmanager"
        key = edge.ingest_key_file.read_text().strip()

        ref = await reference_hop(nc, [reference_sample()] * n)
        print(f"\nReasonOps benchmark: {n:,} alerts per path, {f:,} fingerprints, "
              f"{args.per_post} alerts per POST\n")
        print(f"  {'reference hop (nats-py, fetch 100, publish_async)':<48} {ref:>10,.0f}/s")

        t = time.perf_counter()
        await post_all(ingest_url, webhooks(n, f, args.per_post, "http"), key=key)
        show("ingest over HTTP: alerts accepted (202)", n / (time.perf_counter() - t), ref)

        js = nc.jetstream(publish_async_max_pending=4000)
        t = time.perf_counter()
        futures = [await js.publish_async(subjects.INGEST_RAW_ALERTMANAGER, body)
                   for body in webhooks(n, f, args.per_post, "http")]
        await asyncio.gather(*futures)
        await wait_count(nc, "INGEST", EventAccepted.SUBJECT, 2 * n)
        show("ingest over NATS: alerts normalised", n / (time.perf_counter() - t), ref)

        t = time.perf_counter()
        others.append(supervisor(data_dir=data_dir, nats_url=edge.nats_url, nats_port=0,
                                 nats_monitor_port=0, ports=_ports(("incidents",))))
        others[-1].start()
        incidents = Profile({c.name: c.process.pid for c in others[-1].children if c.process},
                            {c.name: c.url for c in others[-1].children}, rate=200,
                            sample=args.profile)
        incidents.start()
        started = time.perf_counter()
        await drained(nc, ("INGEST",))
        elapsed = time.perf_counter() - started
        incidents.stop()
        opened = await stream_count(nc, "INCIDENTS", IncidentOpened.SUBJECT)
        show("incidents: alerts handled", 2 * n / elapsed, ref)
        print(f"  {'':<48} ({opened:,} incidents opened; start-up "
              f"{started - t:.1f}s not counted)")
        if args.profile:
            incidents.report("incidents", n=20)

        others.append(supervisor(data_dir=data_dir, nats_url=edge.nats_url, nats_port=0,
                                 nats_monitor_port=0, ports=_ports(DOWNSTREAM)))
        others[-1].start()
        children = [c for c in others[-1].children if c.process]
        pids = {c.name: c.process.pid for c in children}  # type: ignore[union-attr]
        if edge.nats is not None and edge.nats.process is not None:
            pids["nats-server"] = edge.nats.process.pid
        profile = Profile(pids, {c.name: c.url for c in children}, sample=args.profile)
        profile.start()
        started = time.perf_counter()
        await drained(nc, ("INGEST", "INCIDENTS", "SLM", "AGENTS", "WORKFLOWS"))
        show("whole chain (slm, finance, orchestrator, triage): incidents",
             opened / (time.perf_counter() - started), ref)
        profile.stop()
        events = 0
        for stream in ("INCIDENTS", "SLM", "AGENTS", "WORKFLOWS", "FINANCE"):
            events += (await nc.jetstream().stream_info(stream)).state.messages
        print(f"  {'':<48} ({events / opened:.1f} events per incident on the chain's streams)")
        if args.profile:
            profile.report("whole chain")

        fresh = args.latency_alerts
        bodies = webhooks(fresh, fresh, 10, "late")
        for body in bodies:  # paced: latency without a backlog in front of it
            await post_all(ingest_url, [body], concurrency=1, key=key)
            await asyncio.sleep(10 / args.latency_rate)
        await drained(nc, ("INGEST", "INCIDENTS"))
        accepted = await timestamps(nc, "INGEST", EventAccepted.SUBJECT)
        incidents = await timestamps(nc, "INCIDENTS", IncidentOpened.SUBJECT)
        lat = sorted((ts - accepted[env.causation_id][0]) * 1000
                     for ts, env in incidents.values()
                     if env.causation_id in accepted and
                     accepted[env.causation_id][1].data["fingerprint"].startswith("late"))
        if lat:
            p50 = statistics.median(lat)
            p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
            FIGURES["latency p50 (ms)"], FIGURES["latency p99 (ms)"] = p50, p99
            print(f"  {'latency accepted -> incident.opened':<48} p50 {p50:.1f} ms, "
                  f"p99 {p99:.1f} ms ({len(lat)} incidents at ~{args.latency_rate}/s)")
        await nc.close()
    finally:
        for sup in reversed(others):
            sup.stop()
        edge.stop()


def mean(runs: list[dict[str, float]]) -> dict[str, float]:
    return {label: statistics.fmean(r[label] for r in runs if label in r)
            for label in runs[0]}


def compare_auth(on: dict[str, float], off: dict[str, float], rounds: int) -> None:
    """Each figure with authentication on beside the same figure off, each run against
    its own reference hop; throughput as a ratio to it, latency in ms."""
    print(f"\nBroker authentication: on vs off, mean of {rounds} runs each (x reference hop "
          "of each run; latency in ms)")
    for label in on:
        if label not in off or not off[label]:
            continue
        change = (on[label] / off[label] - 1) * 100
        print(f"  {label[:48]:<48} on {on[label]:>8.3g}  off {off[label]:>8.3g}  {change:>+6.1f}%")


@contextlib.contextmanager
def own_environment() -> Iterator[None]:
    """What a suite sets in the environment (a rules file in its own temporary
    directory, say) ends with it: the next suite must not read a deleted file."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--alerts", type=int, default=20_000, help="alerts per ingest path")
    parser.add_argument("--fingerprints", type=int, default=2_000)
    parser.add_argument("--per-post", type=int, default=100, help="alerts per webhook POST")
    parser.add_argument("--latency-alerts", type=int, default=500)
    parser.add_argument("--latency-rate", type=float, default=250, help="alerts/s for latency")
    parser.add_argument("--tracing-alerts", type=int, default=10_000, help="0 skips it")
    parser.add_argument("--suite", default="all",
                        choices=("all", "chain", "storm", "ingest", "agents", "eval",
                                 "correlation", "simulate", "gateway", "console",
                                 "paging", "servicenow", "history"))
    parser.add_argument("--profile", action=argparse.BooleanOptionalAction, default=True,
                        help="sample the services with py-spy and print the busiest (the "
                             "chain's phases as they are timed; the storm suite's storm only)")
    parser.add_argument("--simulate-months", default="1,12", help="'' skips the simulate bench")
    parser.add_argument("--auth", default="both", choices=("both", "on", "off"),
                        help="broker authentication for the chain suite (both: on, off, "
                             "off, on, and compare the means); the other suites run with "
                             "it on")
    parser.add_argument("--auth-rounds", type=int, default=1,
                        help="with --auth both: how many on, off, off, on rounds to average")
    correlation.add_arguments(parser)
    storm.add_arguments(parser)
    paging.add_arguments(parser)
    servicenow.add_arguments(parser)
    args = ingest_bench.arguments(parser).parse_args()
    if args.suite in ("all", "chain"):
        # Both: on, off, off, on, so neither mode always runs first on a cold machine
        # (the first run of a process tree is the slower one); each figure is the mean.
        modes = {"both": (True, False, False, True) * args.auth_rounds, "on": (True,),
                 "off": (False,)}[args.auth]
        runs: dict[bool, list[dict[str, float]]] = {True: [], False: []}
        for on in modes:
            AUTH["on"] = on
            FIGURES.clear()
            print(f"\n== broker authentication {'on (as make up)' if on else 'off'} ==")
            with own_environment(), tempfile.TemporaryDirectory(
                    prefix="reasonops-bench-") as tmp:
                asyncio.run(bench(args, Path(tmp)))
            runs[on].append(dict(FIGURES))
        AUTH["on"] = True
        if runs[True] and runs[False]:
            compare_auth(mean(runs[True]), mean(runs[False]), len(runs[True]))
            from .broker_auth import broker_auth_bench

            asyncio.run(broker_auth_bench())
        if args.tracing_alerts:
            with tempfile.TemporaryDirectory(prefix="reasonops-bench-") as tmp:
                asyncio.run(tracing_bench(args.tracing_alerts, Path(tmp) / "tracing"))
    if args.suite in ("all", "storm"):
        with own_environment():
            storm.run(args)
    if args.suite in ("all", "paging"):
        with own_environment():
            paging.run(args)
    if args.suite in ("all", "servicenow"):
        with own_environment():
            servicenow.run(args)
    if args.suite in ("all", "ingest"):
        ingest_bench.run(args)
    if args.suite in ("all", "history"):
        from .read_models import run as run_history
        run_history()
    if args.suite in ("all", "agents"):
        from .agents import run_agents_bench
        asyncio.run(run_agents_bench())
    if args.suite in ("all", "eval"):
        from .evals import run_evals
        asyncio.run(run_evals())
    if args.suite in ("all", "correlation"):
        with own_environment():
            correlation.main(args)
    if args.suite in ("all", "gateway"):
        from .gateway import run_gateway_bench

        with own_environment():
            run_gateway_bench()
    if args.suite in ("all", "console"):
        from .console import run_console_bench

        with own_environment():
            run_console_bench()
    if args.suite in ("all", "simulate") and args.simulate_months:
        from .simulate import bench_simulate

        bench_simulate([int(m) for m in args.simulate_months.split(",")])


if __name__ == "__main__":
    main()
