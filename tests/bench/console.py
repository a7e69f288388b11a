"""The console in a real Chromium: the overview's first paint, the incident list's server
time with 10,000 incidents in the store, and the live list under 50 new incidents a
second (how far behind it falls, and how long the page's main thread is blocked).

Stack: incidents, SLM, finance, the gateway and the triage agent as separate processes
(as ``make up`` runs them, broker authentication on) over one embedded nats-server;
incidents opened from accepted alerts published directly on NATS, one per alert.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from reasonops_contracts import subjects
from reasonops_runtime.ports import free_port

from .access import operator, supervisor
from .gateway import PER_ALERT, accepted
from .http_load import percentile
from .reference import reference_hop

INCIDENTS = 10_000
LOADS = 20
LIVE_RATE = 50
LIVE_SECONDS = 10
SERVICES = ("incidents", "slm", "finance", "gateway", "agent-triage")

TIMING = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const paint = performance.getEntriesByName("first-contentful-paint")[0];
  return {server: nav.responseStart - nav.requestStart,
          paint: paint ? paint.startTime : nav.domContentLoadedEventEnd};
}"""

WATCH = """() => {
  window.__longtasks = [];
  new PerformanceObserver(list => {
    for (const e of list.getEntries()) window.__longtasks.push(e.duration);
  }).observe({type: "longtask", buffered: true});
}"""


async def timed_loads(page: Any, url: str, n: int = LOADS) -> tuple[list[float], list[float]]:
    """(server ms, first contentful paint ms) of ``n`` fresh loads of ``url``."""
    servers, paints = [], []
    for _ in range(n):
        await page.goto(url, wait_until="load")
        found = await page.evaluate(TIMING)
        servers.append(found["server"])
        paints.append(found["paint"])
    return servers, paints


def line(label: str, values: list[float]) -> str:
    return (f"  {label:<58} p50 {statistics.median(values):7.1f} ms  "
            f"p99 {percentile(values, 0.99):7.1f} ms")


async def bench(data_dir: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("\nConsole: skipped, chromium is not installed (apt-get install chromium)")
        return
    from playwright.async_api import async_playwright

    rules = data_dir / "per-alert-rules.yaml"
    rules.write_text(PER_ALERT)
    os.environ["REASONOPS_CORRELATION_RULES"] = str(rules)
    os.environ["REASONOPS_RATE_LIMIT_PER_SECOND"] = "1000000"
    os.environ["REASONOPS_RATE_LIMIT_BURST"] = "1000000"
    gateway_port = free_port()
    stack = supervisor(data_dir=data_dir, nats_url=None, nats_port=free_port(),
                       nats_monitor_port=free_port(),
                       ports={n: (gateway_port if n == "gateway" else free_port())
                              for n in SERVICES})
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
        url = f"http://127.0.0.1:{gateway_port}"
        print(f"\nConsole in Chromium: {INCIDENTS:,} incidents in the store (reference hop "
              f"{ref:,.0f}/s)\n")
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=chromium,
                                                       args=["--no-sandbox"])
            page = await (await browser.new_context()).new_page()
            await page.goto(f"{url}/login")
            await page.fill("#token", token)
            await page.click("button[type=submit]")
            await page.wait_for_url(f"{url}/")

            servers, paints = await timed_loads(page, f"{url}/")
            print(line("overview: first contentful paint", paints))
            print(line("overview: server time", servers))
            servers, _ = await timed_loads(page, f"{url}/incidents")
            print(line(f"incident list, newest 50 of {INCIDENTS:,}: server time", servers))
            servers, _ = await timed_loads(
                page, f"{url}/incidents?state=new&state=acknowledged&state=on_hold")
            print(line("the same, open incidents only (the menu's link)", servers))

            await page.goto(f"{url}/incidents")
            await page.evaluate(WATCH)
            await page.wait_for_function("() => document.getElementById('offline').hidden")
            before = int((await page.text_content("[data-testid=total]") or "0").split()[0])
            lags: list[int] = []
            started = time.perf_counter()
            for n in range(LIVE_RATE * LIVE_SECONDS):
                await js.publish(subjects.INGEST_EVENT_ACCEPTED, accepted(INCIDENTS + n))
                due = started + (n + 1) / LIVE_RATE
                if n % (LIVE_RATE // 5) == 0:
                    shown = int((await page.text_content("[data-testid=total]")
                                 or "0").split()[0])
                    lags.append(before + n + 1 - shown)
                if (wait := due - time.perf_counter()) > 0:
                    await asyncio.sleep(wait)
            sent_for = time.perf_counter() - started
            target = before + LIVE_RATE * LIVE_SECONDS
            await page.wait_for_function(
                f"() => parseInt(document.querySelector('[data-testid=total]')"
                f".textContent) >= {target}", timeout=60_000)
            caught_up = time.perf_counter() - started - sent_for
            long_tasks = await page.evaluate("() => window.__longtasks")
            print(f"  {f'live list, {LIVE_RATE} new incidents/s for {LIVE_SECONDS} s':<58} "
                  f"behind by at most {max(lags)} incidents, caught up "
                  f"{max(0.0, caught_up):.1f} s after the last")
            print(f"  {'  the page main thread blocked (long tasks > 50 ms)':<58} "
                  f"{len(long_tasks)} tasks, longest {max(long_tasks, default=0):.0f} ms, "
                  f"{sum(long_tasks):.0f} ms in all")
            await browser.close()
        await nc.close()
    finally:
        stack.stop()


def run_console_bench() -> None:
    with tempfile.TemporaryDirectory(prefix="reasonops-bench-") as tmp:
        asyncio.run(bench(Path(tmp)))
