"""The production shape, for real and bounded in time: three nats-servers in a JetStream
cluster on loopback, every stream at R3, two replicas each of incidents, SLM and finance
on PostgreSQL. While 20,000 alerts stream in, the node leading the INGEST stream stops and
comes back, and one replica of each service is SIGKILLed. Afterwards every accepted alert
is in exactly one incident, every breach has exactly one penalty, and every penalty
exactly one ledger entry."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import nats
import pytest

from reasonops_cli.credentials import seed_file
from reasonops_cli.natsd import server_binary
from reasonops_contracts import MSG_ID_HEADER, subjects
from reasonops_contracts.finance import LedgerEntryPosted
from reasonops_contracts.incidents import IncidentList, ListIncidents
from reasonops_contracts.slm import PenaltyAssessed, SlaBreached
from reasonops_contracts.streams import ALL_STREAMS, DEADLETTER, FINANCE, INGEST, SLM
from reasonops_runtime.claims import Signer, attach
from reasonops_runtime.client import request
from reasonops_runtime.jetstream import ensure_streams
from reasonops_runtime.ports import free_port
from reasonops_runtime.reading import read_stream
from tests.support import wait_for

pytestmark = [pytest.mark.nats, pytest.mark.postgres, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
ALERTS = 20_000
INCIDENTS = 400
RULES = """rules:
  - name: cluster
    match: ["service=checkout"]
    group_by: [service, alertname]
    window: 1h
"""
CONTRACT = """contracts:
  - id: CLUSTER-TEST
    supplier: Loopback Hosting
    services: [checkout]
    currency: EUR
    penalties: {P1: 1.00, P2: 1.00, P3: 1.00, P4: 1.00, P5: 1.00}
"""


class Node:
    """One nats-server of the cluster: stopped and started again on the same ports and
    store."""

    def __init__(self, name: str, base: Path, port: int, route: int, routes: list[int]):
        self.name, self.port = name, port
        self.store = base / name
        self.config = base / f"{name}.conf"
        others = ", ".join(f"nats-route://127.0.0.1:{r}" for r in routes if r != route)
        self.config.write_text(
            f"server_name: {name}\nlisten: 127.0.0.1:{port}\n"
            f"jetstream {{ store_dir: \"{self.store}\" }}\n"
            f"cluster {{ name: reasonops-test\n listen: 127.0.0.1:{route}\n"
            f" routes: [{others}] }}\n")
        self.log = base / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen([str(server_binary()), "-c", str(self.config)],
                                            stdout=log, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(15)


@pytest.fixture
def cluster(tmp_path):
    routes = [free_port() for _ in range(3)]
    nodes = [Node(f"n{i}", tmp_path, free_port(), routes[i], routes) for i in range(3)]
    for node in nodes:
        node.start()
    yield nodes
    for node in nodes:
        node.stop()


def spawn(name: str, urls: str, database: str | None, tmp_path: Path, replica: int,
          contracts: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, REASONOPS_NATS_URL=urls, DATABASE_URL=database or "",
               REASONOPS_DATA_DIR=str(tmp_path / f"{name}-{replica}"),
               REASONOPS_HTTP_PORT="0", REASONOPS_STREAM_REPLICAS="3",
               REASONOPS_ACK_WAIT_SECONDS="5", REASONOPS_FETCH_TIMEOUT="0.2",
               REASONOPS_INSTANCE=f"{name}-{replica}",
               REASONOPS_SLA_POLICIES=str(ROOT / "examples/config/sla-policies-fast.yaml"),
               REASONOPS_SUPPLIER_CONTRACTS=str(contracts),
               REASONOPS_CORRELATION_RULES=str(contracts.with_name("rules.yaml")))
    env.pop("NATS_URL", None)
    with open(tmp_path / f"{name}-{replica}.log", "ab") as log:
        return subprocess.Popen([sys.executable, "-m", "reasonops_cli", "run", name],
                                env=env, stdout=subprocess.DEVNULL, stderr=log)


def log_of(tmp_path: Path, name: str, replica: int) -> str:
    return (tmp_path / f"{name}-{replica}.log").read_text(errors="replace")


async def all_started(tmp_path: Path, processes: dict[tuple[str, int], subprocess.Popen[bytes]],
                  timeout: float) -> None:
    """Until every process has logged that it started; one that exits fails the test."""
    def ready() -> bool:
        for (name, replica), process in processes.items():
            assert process.poll() is None, (f"{name}-{replica} exited:\n"
                                            f"{log_of(tmp_path, name, replica)[-3000:]}")
        return all("service started" in log_of(tmp_path, name, replica)
                   for name, replica in processes)

    deadline = time.monotonic() + timeout
    while not ready():
        assert time.monotonic() < deadline, "not every service started in time"
        await asyncio.sleep(0.2)


async def declared_on(urls: str, test_identity: Path):  # type: ignore[no-untyped-def]
    """A client of the cluster, once the cluster has elected its meta leader and every
    stream is declared at R3."""
    client = await wait_for(lambda: connected(urls), timeout=30)
    attach(client, Signer.from_file("tests", seed_file(test_identity, "tests"), "user:tests"))
    js = client.jetstream()

    async def declared() -> bool:
        await ensure_streams(js, ALL_STREAMS, replicas=3)
        return True

    await wait_for(declared, timeout=60, interval=0.5)
    return client


async def connected(urls: str):  # type: ignore[no-untyped-def]
    return await nats.connect(urls.split(","), connect_timeout=2, max_reconnect_attempts=-1,
                              reconnect_time_wait=0.5)


async def publish_alerts(js) -> None:  # type: ignore[no-untyped-def]
    """Each alert once (its Nats-Msg-Id), retried while the cluster elects a leader."""
    for i in range(ALERTS):
        event = {"name": f"Cluster{i % INCIDENTS}", "service": "checkout",
                 "severity": "critical", "resource": f"pod-{i}"}
        for attempt in range(200):
            try:
                await js.publish(subjects.INGEST_RAW_EVENT, json.dumps(event).encode(),
                                 headers={MSG_ID_HEADER: f"alert-{i}"}, timeout=2)
                break
            except Exception:
                await asyncio.sleep(0.1 * min(attempt + 1, 10))
        else:
            raise AssertionError(f"alert {i} was never stored")
        if i % 200 == 0:
            await asyncio.sleep(0.2)  # about 1,000 alerts a second


async def by_type(nc, stream: str, subject: str) -> list[dict]:  # type: ignore[no-untyped-def]
    """The data of every distinct envelope on ``subject`` in ``stream``."""
    found: dict[str, dict] = {}

    def offer(_seq: int, _subject: str, raw: bytes) -> None:
        envelope = json.loads(raw)
        found[envelope["id"]] = envelope["data"]

    await read_stream(nc, stream, offer, subject=subject)
    return list(found.values())


async def test_a_cluster_losing_a_node_and_replicas_loses_and_doubles_nothing(
        cluster, postgres_database, tmp_path, test_identity):
    urls = ",".join(f"nats://127.0.0.1:{n.port}" for n in cluster)
    client = await declared_on(urls, test_identity)
    js = client.jetstream()
    contracts = tmp_path / "contracts.yaml"
    contracts.write_text(CONTRACT)
    contracts.with_name("rules.yaml").write_text(RULES)
    databases = {name: postgres_database() for name in ("ingest", "incidents", "slm",
                                                        "finance")}
    processes = {(name, replica): spawn(name, urls, databases[name], tmp_path, replica,
                                        contracts)
                 for name in ("incidents", "slm", "finance") for replica in (1, 2)}
    processes[("ingest", 1)] = spawn("ingest", urls, databases["ingest"], tmp_path, 1,
                                     contracts)
    try:
        await all_started(tmp_path, processes, timeout=120)  # every durable created
        started = time.monotonic()
        storm = asyncio.create_task(publish_alerts(js))
        await asyncio.sleep(5)
        leader = (await js.stream_info(INGEST.name)).cluster.leader  # type: ignore[union-attr]
        (lost,) = [n for n in cluster if n.name == leader]
        lost.stop()
        await asyncio.sleep(3)
        for name in ("incidents", "slm", "finance"):
            processes[(name, 1)].send_signal(signal.SIGKILL)
        await asyncio.sleep(5)
        lost.start()
        await storm

        async def incidents() -> IncidentList:
            return await request(client, ListIncidents(actor="user:admin", limit=1000),
                                 IncidentList, timeout=10)

        def progress(found: IncidentList) -> bool:
            counted = sum(i.alert_count for i in found.items)
            print(f"{time.monotonic() - started:.0f}s: {len(found.items)} incidents, "
                  f"{counted} alerts")
            return counted >= ALERTS

        print(f"storm published in {time.monotonic() - started:.0f}s")
        listed = await wait_for(incidents, check=progress, timeout=240, interval=3)
        assert len(listed.items) == INCIDENTS
        assert sum(i.alert_count for i in listed.items) == ALERTS

        def settled(posted: list[dict]) -> bool:
            return len({p["penalty_id"] for p in posted}) >= 2 * INCIDENTS

        posted = await wait_for(lambda: by_type(client, FINANCE.name,
                                                LedgerEntryPosted.SUBJECT),
                                check=settled, timeout=180, interval=3)
        breaches = await by_type(client, SLM.name, SlaBreached.SUBJECT)
        penalties = await by_type(client, SLM.name, PenaltyAssessed.SUBJECT)
        breached_clocks = Counter(b["clock_id"] for b in breaches)
        assert len(breached_clocks) == 2 * INCIDENTS  # response and resolution, each
        assert Counter(p["clock_id"] for p in penalties) == Counter(dict.fromkeys(
            breached_clocks, 1))
        entries = Counter(p["penalty_id"] for p in posted)
        assert set(entries) == {p["penalty_id"] for p in penalties}
        assert set(entries.values()) == {1}
        # Nothing was given up on: the leader election and the killed replicas were the
        # environment's failures, not the messages'.
        assert await by_type(client, DEADLETTER.name, f"{subjects.DEAD_LETTER_PREFIX}.>") == []
        print(f"settled in {time.monotonic() - started:.0f}s")
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.terminate()
        for process in processes.values():
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
        await client.close()


async def test_a_service_starting_while_the_cluster_has_no_quorum_starts_when_it_has(
        cluster, tmp_path, test_identity):
    """Two of three nodes away: no stream has a leader and JetStream's API goes
    unanswered. A service starting then keeps asking, and starts once a node rejoins."""
    urls = ",".join(f"nats://127.0.0.1:{n.port}" for n in cluster)
    client = await declared_on(urls, test_identity)
    await client.close()
    contracts = tmp_path / "contracts.yaml"
    contracts.write_text(CONTRACT)
    contracts.with_name("rules.yaml").write_text(RULES)
    away = cluster[1:]
    for node in away:
        node.stop()
    slm = spawn("slm", urls, None, tmp_path, 1, contracts)
    try:
        deadline = time.monotonic() + 120  # its start on a busy machine, the first timeout
        while "JetStream did not answer; asking again" not in log_of(tmp_path, "slm", 1):
            assert slm.poll() is None, log_of(tmp_path, "slm", 1)[-3000:]
            assert time.monotonic() < deadline, log_of(tmp_path, "slm", 1)[-3000:]
            await asyncio.sleep(0.2)
        await asyncio.sleep(6)  # more than another API call's timeout: still trying
        assert slm.poll() is None, log_of(tmp_path, "slm", 1)[-3000:]
        assert "service started" not in log_of(tmp_path, "slm", 1)
        away[0].start()
        await all_started(tmp_path, {("slm", 1): slm}, timeout=90)
    finally:
        slm.terminate()
        try:
            slm.wait(15)
        except subprocess.TimeoutExpired:
            slm.kill()
