"""The agents' reads once their read models hold a long history (SQLite, in process).

A read that goes through all of a table's past gets slower every day the product runs;
each figure here is one read an agent makes per decision or per batch, timed over a
history written the way the agent writes it:

- RCA: a service's alerts around an incident, after a month of 150 alerts an hour on 50
  services, each sent once (as Alertmanager's are: its re-sends carry the same identity,
  which the agent's inbox recognises);
- security: a source's five-minute and hour windows, and 20 accounts under fire, with
  200,000 login events in the hour from 1,000 sources;
- capacity: a series' last day, after a month of five-minute points of 50 series;
- service level: the latest met clocks of a kind (a group's, everyone's), a group's open
  count and latest answered incidents, with 100,000 incidents and 200,000 met clocks.

Run alone: ``python -m tests.bench.run --suite history``.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from reasonops_agent_capacity import store as capacity
from reasonops_agent_rca import store as rca
from reasonops_agent_security import store as security
from reasonops_agent_slm import store as slm
from reasonops_contracts.ingest import EventAccepted
from reasonops_runtime import Store

T0 = datetime(2026, 11, 1, tzinfo=UTC)
READS = 50

Read = Callable[[AsyncConnection, int], Awaitable[Any]]


async def timed(db: Store, read: Read, n: int = READS) -> float:
    """Milliseconds a read, over ``n`` (each in a session of its own, as the agents do)."""
    started = time.perf_counter()
    for i in range(n):
        async with db.read() as session:
            await read(session, i)
    return (time.perf_counter() - started) / n * 1000


async def filled(tmp: Path, metadata: MetaData, rows: dict[Any, list[dict[str, Any]]]) -> Store:
    db = Store(f"sqlite+aiosqlite:///{tmp / 'history.db'}", metadata)
    await db.create_all()
    async with db.transaction() as tx:
        for table, found in rows.items():
            for start in range(0, len(found), 20_000):
                await tx.session.execute(insert(table), found[start:start + 20_000])
    return db


async def rca_reads(tmp: Path) -> list[tuple[str, float]]:
    db = Store(f"sqlite+aiosqlite:///{tmp / 'rca.db'}", rca.metadata)
    await db.create_all()
    for day in range(30):
        sent = [EventAccepted(
            fingerprint=f"svc{s}-{hour}-{k}", status="firing", name="HighErrorRate",
            severity="warning", service=f"svc-{s}", summary="errors",
            starts_at=T0 + timedelta(hours=hour, minutes=7 * k),
            received_at=T0 + timedelta(hours=hour, minutes=7 * k), source_format="alertmanager")
            for hour in range(24 * day, 24 * day + 24) for s in range(50) for k in range(3)]
        async with db.transaction() as tx:
            await rca.add_alerts(tx.session, sent)
    opened = T0 + timedelta(days=20, hours=5)

    def near(session: AsyncConnection, i: int) -> Awaitable[Any]:
        return rca.alerts_between(session, services=[f"svc-{i % 50}"], fingerprint="other",
                                  start=opened - timedelta(hours=1),
                                  end=opened + timedelta(minutes=15))
    try:
        return [("RCA: a service's alerts around an incident (a month of alerts)",
                 await timed(db, near))]
    finally:
        await db.close()


async def security_reads(tmp: Path) -> list[tuple[str, float]]:
    rnd = random.Random(1)
    db = await filled(tmp, security.metadata, {security.events: [dict(
        source=f"10.0.{i % 1000 // 250}.{i % 250}", account=f"u{rnd.randrange(5000)}",
        kind=rnd.choice(["login_failure", "login_success", "waf_block"]), service="sso",
        at=T0 + timedelta(seconds=i * 3600 / 200_000)) for i in range(200_000)]})
    end = T0 + timedelta(minutes=59)

    async def windows(session: AsyncConnection, i: int) -> None:
        await security.window(session, f"10.0.{i % 4}.{i}", end, 300)
        await security.window(session, f"10.0.{i % 4}.{i}", end, 3600)

    def accounts(session: AsyncConnection, i: int) -> Awaitable[Any]:
        return security.accounts_under_fire(session, [f"u{i * 7 + k}" for k in range(20)],
                                            end, 3600, 20)
    try:
        return [("security: a source's 5-minute and hour windows (200,000 events)",
                 await timed(db, windows)),
                ("security: 20 accounts under fire", await timed(db, accounts))]
    finally:
        await db.close()


async def capacity_reads(tmp: Path) -> list[tuple[str, float]]:
    db = await filled(tmp, capacity.metadata, {capacity.points: [dict(
        series=f"s{s}", metric="disk", resource="fs", value=50.0, limit=100.0,
        severity="warning", fingerprint=f"f{s}", at=T0 + timedelta(minutes=m))
        for s in range(50) for m in range(0, 30 * 24 * 60, 5)]})
    end = T0 + timedelta(days=30)

    def day(session: AsyncConnection, i: int) -> Awaitable[Any]:
        return capacity.recent(session, f"s{i % 50}", end - timedelta(hours=24))
    try:
        return [("capacity: a series' last day (a month of points kept)", await timed(db, day))]
    finally:
        await db.close()


async def slm_reads(tmp: Path) -> list[tuple[str, float]]:
    rnd = random.Random(2)
    db = await filled(tmp, slm.metadata, {
        slm.incidents: [dict(
            incident_id=f"INC{i:07d}", assignment_group=f"g{i % 10}",
            opened_at=T0 + timedelta(minutes=5 * i),
            acknowledged_at=T0 + timedelta(minutes=5 * i + 3),
            resolved_at=None if i > 99_900 else T0 + timedelta(minutes=5 * i + 60),
            load=rnd.randrange(5)) for i in range(100_000)],
        slm.met: [dict(assignment_group=f"g{i % 10}", kind=("response", "resolution")[i % 2],
                       elapsed_seconds=100.0, in_hours=True,
                       at=T0 + timedelta(minutes=2.5 * i)) for i in range(200_000)]})
    reads: list[tuple[str, Read]] = [
        ("service level: a group's latest met clocks",
         lambda s, i: slm.met_latest(s, "response", f"g{i % 10}")),
        ("service level: everyone's latest met clocks",
         lambda s, i: slm.met_latest(s, "resolution")),
        ("service level: a group's latest answered incidents",
         lambda s, i: slm.answered(s, f"g{i % 10}")),
        ("service level: two groups' open incidents",
         lambda s, i: slm.open_by_group(s, {f"g{i % 10}", f"g{(i + 1) % 10}"}))]
    try:
        return [(label, await timed(db, read)) for label, read in reads]
    finally:
        await db.close()


async def bench() -> None:
    print("\nreads over a long history (SQLite, ms a read)")
    for reads in (rca_reads, security_reads, capacity_reads, slm_reads):
        with tempfile.TemporaryDirectory(prefix="reasonops-bench-history-") as tmp:
            for label, ms in await reads(Path(tmp)):
                print(f"  {label:<68} {ms:7.2f}", flush=True)


def run() -> None:
    asyncio.run(bench())
