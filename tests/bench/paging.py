"""Paging with every service running: N incidents opening within a minute (one alert each,
paced), each paging the person on call through an escalation policy by webhook, to a
local receiver. Figures: incident opened -> page received, and alert accepted -> page
received (p50, p99; target p99 within 5 s), beside the same-run reference hop; and the
on-call service's memory afterwards.

Run alone: ``python -m tests.bench.run --suite paging`` (``--paging-incidents``,
``--paging-seconds``, ``--paging-answer-seconds`` for a slow provider)."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from reasonops_cli.run import installed_services
from reasonops_contracts.incidents import IncidentOpened
from reasonops_contracts.ingest import EventAccepted
from reasonops_runtime.http import HttpServer

from .profile import rss_mb
from .reference import reference_hop
from .storm import Stack, alerts, bodies, idle, percentiles, post, received

INCIDENT = re.compile(r"INC\d{7,}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--paging-incidents", type=int, default=1_000,
                        help="incidents opened, each paging once")
    parser.add_argument("--paging-seconds", type=float, default=60,
                        help="over how many seconds they open")
    parser.add_argument("--paging-answer-seconds", type=float, default=0.0,
                        help="how long the receiver takes to answer each page (a slow "
                             "provider; the page counts as received when it arrives)")


def oncall_file(hook: str) -> str:
    services = ", ".join(f"svc-{n}" for n in range(50))
    return f"""\
users:
  pager: {{name: The pager, contacts: [{{kind: webhook, address: "{hook}"}}]}}
teams:
  platform: {{members: [pager]}}
schedules:
  platform:
    team: platform
    layers:
      - {{name: always, rotation: weekly, start: 2026-01-05T09:00, users: [pager]}}
escalation_policies:
  platform:
    services: [{services}]
    levels:
      - {{after: 0s, notify: [{{schedule: platform}}]}}
"""


class Receiver:
    """The webhook's other end: when each page arrived, by incident."""

    def __init__(self, answer_seconds: float = 0.0) -> None:
        self.answer_seconds = answer_seconds
        self.arrived: dict[str, float] = {}
        self.server = HttpServer(Starlette(routes=[Route("/hook", self.hook,
                                                         methods=["POST"])]), "127.0.0.1", 0)

    async def hook(self, request: Request) -> JSONResponse:
        now = time.time()
        body = await request.json()
        found = INCIDENT.search(str(body.get("text", "")))
        if found:
            self.arrived.setdefault(found.group(0), now)
        await asyncio.sleep(self.answer_seconds)
        return JSONResponse({"ok": True})


async def paging_bench(args: argparse.Namespace, data_dir: Path) -> None:
    receiver = Receiver(args.paging_answer_seconds)
    port = receiver.server.bind()
    await receiver.server.start()
    file = data_dir / "oncall.yaml"
    data_dir.mkdir(parents=True, exist_ok=True)
    file.write_text(oncall_file(f"http://127.0.0.1:{port}/hook"))
    os.environ["REASONOPS_ONCALL"] = str(file)
    stack = Stack(data_dir)
    try:
        await stack.start_edge()
        nc = stack.nc
        from .run import reference_sample

        ref = await reference_hop(nc, [reference_sample()] * 20_000)
        stack.start_rest()
        await idle(nc)
        n, seconds = args.paging_incidents, args.paging_seconds
        print(f"\nPaging: every service running ({len(installed_services())} services), "
              f"reference hop {ref:,.0f} msgs/s")
        took = await post(stack.url, stack.key, bodies(alerts("page", n), 1), pace=n / seconds)
        deadline = time.monotonic() + 300
        while len(receiver.arrived) < n and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
        opened = {env.data["incident_id"]: (at, env.correlation_id)
                  for at, env in await received(nc, "INCIDENTS", IncidentOpened.SUBJECT)}
        accepted = {env.correlation_id: at
                    for at, env in await received(nc, "INGEST", EventAccepted.SUBJECT)
                    if str(env.data.get("fingerprint", "")).startswith("page")}
        from_opened = [(receiver.arrived[i] - at) * 1000 for i, (at, _) in opened.items()
                       if i in receiver.arrived]
        from_accepted = [(receiver.arrived[i] - accepted[c]) * 1000
                         for i, (_, c) in opened.items()
                         if i in receiver.arrived and c in accepted]
        slow = (f", each answered after {args.paging_answer_seconds:g} s"
                if args.paging_answer_seconds else "")
        print(f"  {n:,} incidents in {took:.0f} s ({n / took:.1f}/s), pages received: "
              f"{len(receiver.arrived):,}{slow}")
        print(f"  incident opened -> page received      {percentiles(from_opened)}")
        print(f"  alert accepted -> page received       {percentiles(from_accepted)}")
        pids: dict[str, Any] = stack.pids()
        if "oncall" in pids:
            print(f"  on-call service RSS afterwards        {rss_mb(pids['oncall']):.0f} MB")
    finally:
        stack.stop()
        await receiver.server.stop()


def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="reasonops-bench-") as tmp:
        asyncio.run(paging_bench(args, Path(tmp) / "paging"))
