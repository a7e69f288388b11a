"""Evaluate the service-level agent on replayed months: the share of breaches it
forecast at least 15 minutes before the deadline, and its false alarms per day.

A case describes a month of a service desk (its groups, how many incidents a day, how
many people, how fast they answer and resolve, the SLA targets); :mod:`.month` draws
the month with the case's seed and :mod:`.events` turns it into the events the agent
consumes. They are replayed in time order into the agent's own store through its own
handlers, and the agent's own scan runs every ``SCAN_MINUTES`` of simulated time: what
it queues is what the service would decide on.
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from reasonops_contracts import Envelope
from reasonops_llm import LlmMetrics, LlmSettings, PromptTemplate, build_router, evaluation
from reasonops_llm.evaluation import CaseError, Progress, count_cases
from reasonops_runtime import FrozenClock, Transaction
from reasonops_runtime.store import Store

from . import handlers, store
from .app import PROMPTS
from .events import month_events
from .handlers import SlmAgent
from .month import Month, simulate

__all__ = ["CaseError", "count_cases", "load_cases", "render", "run"]

SCAN_MINUTES = 10
AHEAD = timedelta(minutes=15)
"""A breach counts as forecast when the forecast came at least this long before it."""


def load_cases(*paths: Path) -> list[Month]:
    return evaluation.load_cases(Month, *paths)


@dataclass
class Recorded:
    """Stands in for the agent kit's queue: what the scan asked a decision for, when."""

    clock: FrozenClock
    forecasts: dict[str, datetime] = field(default_factory=dict)

    async def enqueue(self, tx: Transaction, cause: Envelope, request_id: str, kind: str,
                      payload: dict[str, Any]) -> bool:
        clock_id = payload["forecast"]["clock_id"]
        self.forecasts.setdefault(clock_id, self.clock.now())
        return True


@dataclass
class Report:
    cases: int = 0
    days: float = 0.0
    clocks: int = 0
    breaches: int = 0
    ahead: int = 0
    late: int = 0
    forecasts: int = 0
    false_alarms: int = 0
    minutes_ahead: list[float] = field(default_factory=list)
    by_kind: dict[str, list[int]] = field(default_factory=dict)
    """kind -> [forecast 15 min ahead, breaches]"""
    by_split: dict[str, list[float]] = field(default_factory=dict)
    """split -> [forecast ahead, breaches, false alarms, days]"""
    misses: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "cases": self.cases, "days": self.days, "clocks": self.clocks,
            "breaches": self.breaches, "forecast_15_min_ahead": self.ahead,
            "share_forecast_15_min_ahead": self.ahead / self.breaches if self.breaches else None,
            "forecast_later": self.late, "forecasts": self.forecasts,
            "false_alarms": self.false_alarms,
            "false_alarms_per_day": round(self.false_alarms / self.days, 2) if self.days else None,
            "median_minutes_ahead": statistics.median(self.minutes_ahead)
            if self.minutes_ahead else None,
            "by_kind": {k: {"ahead": a, "breaches": n} for k, (a, n) in self.by_kind.items()},
            "by_split": {k: {"ahead": a, "breaches": n, "false_alarms": f, "days": d}
                         for k, (a, n, f, d) in self.by_split.items()},
        }


def render(report: Report) -> str:
    def share(hits: float, of: float) -> str:
        return f"{hits / of:.1%} ({hits:g}/{of:g})" if of else "n/a"
    lines = [f"{report.cases} months, {report.days:g} days, {report.clocks} clocks, "
             f"{report.breaches} breaches",
             f"breaches forecast >= 15 min ahead   {share(report.ahead, report.breaches)}",
             f"forecast later, before the breach   {report.late}",
             f"false alarms per day                "
             f"{report.false_alarms / report.days:.2f} ({report.false_alarms} forecasts of "
             f"clocks that were met, of {report.forecasts})" if report.days else ""]
    if report.minutes_ahead:
        lines.append(f"how far ahead                      median "
                     f"{statistics.median(report.minutes_ahead):.0f} min")
    lines += ["", "by clock      ahead / breaches"]
    lines += [f"  {kind:<11} {share(a, n)}" for kind, (a, n) in sorted(report.by_kind.items())]
    lines += ["", "by split      ahead / breaches   false alarms per day"]
    lines += [f"  {split:<11} {share(a, n):<18} {f / d:.2f}"
              for split, (a, n, f, d) in sorted(report.by_split.items())]
    return "\n".join(lines)


async def replay(month: Month, db: Store) -> tuple[dict[str, datetime], dict[str, Any]]:
    """The agent's forecasts (clock -> when) over the month, and what really happened."""
    events, outcomes = month_events(month, simulate(month))
    clock = FrozenClock(month.start)
    recorded = Recorded(clock)
    router = build_router("slm", "rules", LlmSettings(), LlmMetrics(CollectorRegistry()))
    agent = SlmAgent(router, PromptTemplate.latest(PROMPTS, "slm"), clock, db.transaction,
                     scan_limit=100_000)
    agent.queue = recorded
    # Each event at its own time, as the consumers get it (the incidents' router, then
    # the clocks': a routed batch skips the types its handlers do not take), with the
    # scans due before it run first.
    routers = (agent.incidents(), agent.clocks())
    tick, i = month.start, 0
    while i < len(events):
        clock.set(tick)
        await agent.scan()
        tick += timedelta(minutes=SCAN_MINUTES)
        async with db.transaction() as tx:  # the events before the next scan, in one
            while i < len(events) and events[i][0] < tick:
                at, event = events[i]
                clock.set(at)
                batch: list[tuple[Any, Envelope]] = [(None, Envelope.wrap(event,
                                                                         source="replay"))]
                for route in routers:
                    await route(tx, batch)
                i += 1
    return recorded.forecasts, outcomes


async def evaluate(months: Sequence[Month], progress: Progress | None = None) -> Report:
    # The service's "breaches forecast" warning is for operators, not for this report.
    handlers_log = logging.getLogger(handlers.__name__)
    level = handlers_log.level
    handlers_log.setLevel(logging.ERROR)
    try:
        return await _evaluate(months, progress)
    finally:
        handlers_log.setLevel(level)


async def _evaluate(months: Sequence[Month], progress: Progress | None) -> Report:
    report = Report(cases=len(months))
    for n, month in enumerate(months, start=1):
        async with evaluation.case_store(store.metadata) as db:
            forecasts, outcomes = await replay(month, db)
        split = report.by_split.setdefault(month.split or "-", [0, 0, 0, 0.0])
        report.days += month.days
        split[3] += month.days
        report.clocks += len(outcomes)
        for clock_id, outcome in outcomes.items():
            when = forecasts.get(clock_id)
            tally = report.by_kind.setdefault(outcome.kind, [0, 0])
            if outcome.breached:
                report.breaches += 1
                tally[1] += 1
                split[1] += 1
                if when is not None and when <= outcome.deadline - AHEAD:
                    report.ahead += 1
                    tally[0] += 1
                    split[0] += 1
                    report.minutes_ahead.append(
                        (outcome.deadline - when).total_seconds() / 60)
                elif when is not None:
                    report.late += 1
                else:
                    report.misses.append(f"{month.id}: {clock_id} breached at "
                                         f"{outcome.deadline:%m-%d %H:%M}, not forecast")
            elif when is not None:
                report.false_alarms += 1
                split[2] += 1
        report.forecasts += len(forecasts)
        if progress is not None:
            progress(n)
    return report


async def run(paths: Sequence[Path], *, chain: str, llm: object = None,
              progress: Progress | None = None) -> Report:
    """The entry point ``reasonops agents eval --agent slm`` calls. The forecast is the
    rules' (a provider words the decision, the numbers stay), so ``chain`` is not used."""
    return await evaluate(load_cases(*paths), progress)
