"""Evaluate the capacity agent over series whose exhaustion time is known: the error of
its forecast, and whether it tells growing series from flat ones.

A case describes one measured series: the limit, the underlying trend (the value it
stands at on the last point and its growth per hour), and what real series add to it
(noise, a daily cycle, a one-off jump); the exhaustion time is when the trend reaches
the limit. The points are drawn with the case's seed and sent as the alerts monitoring
would send (a value and a limit label on each re-notification), read by the agent's own
``reading``, kept in its own store and forecast over its default look-back, as the
service does when the last alert arrives.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from reasonops_contracts.ingest import EventAccepted
from reasonops_llm import evaluation
from reasonops_llm.evaluation import CaseError, Progress, count_cases

from . import store
from .app import CapacitySettings
from .domain import forecast, reading

__all__ = ["CaseError", "count_cases", "load_cases", "render", "run"]


class Case(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    split: str | None = None
    reason: str | None = None
    metric: str = Field(min_length=1, description="The alert's name, e.g. "
                        "NodeFilesystemSpaceFillingUp")
    limit: float = Field(gt=0)
    last_value: float = Field(ge=0, description="The trend's value at the last point")
    slope_per_hour: float = Field(description="The trend's growth per hour; <= 0: flat or "
                                  "falling, never exhausted")
    hours: float = Field(gt=0, description="How long before the last point it is measured")
    interval_minutes: float = Field(gt=0)
    noise: float = Field(default=0.0, ge=0, description="Standard deviation per point")
    daily_amplitude: float = Field(default=0.0, ge=0)
    jump_at_hour: float | None = Field(default=None, description="A one-off jump this many "
                                       "hours before the last point...")
    jump: float = Field(default=0.0, description="...of this size (a bulk load)")
    seed: int = 0

    def exhaustion_hours(self) -> float | None:
        if self.slope_per_hour <= 0:
            return None
        return (self.limit - self.last_value) / self.slope_per_hour



def load_cases(*paths: Path) -> list[Case]:
    return evaluation.load_cases(Case, *paths)


LAST = datetime.fromisoformat("2026-11-20T12:00:00+00:00")
"""Every case's last point; the others come before it."""


def alerts(case: Case) -> list[EventAccepted]:
    """The re-notifications monitoring sends for the series, oldest first."""
    rng = random.Random(case.seed)
    count = int(case.hours * 60 // case.interval_minutes) + 1
    sent = []
    for n in range(count):
        back = (count - 1 - n) * case.interval_minutes / 60  # hours before the last point
        at = LAST - timedelta(hours=back)
        value = case.last_value - case.slope_per_hour * back
        value += case.daily_amplitude * math.sin(2 * math.pi * (at.hour + at.minute / 60) / 24)
        if case.jump_at_hour is not None and back > case.jump_at_hour:
            value -= case.jump
        value = min(case.limit, max(0.0, value + rng.gauss(0, case.noise)))
        sent.append(EventAccepted(
            fingerprint=f"cap-{case.id}", status="firing", name=case.metric,
            severity="warning", service="eval", resource="host-1",
            summary=f"{case.metric}: {value:.2f} of {case.limit:g}",
            labels={"value": f"{value:.4f}", "limit": f"{case.limit:g}"},
            starts_at=at, received_at=at, source_format="event"))
    return sent




@dataclass
class Report:
    cases: int = 0
    growing: int = 0
    forecast_growing: int = 0
    errors_hours: list[float] = field(default_factory=list)
    relative_errors: list[float] = field(default_factory=list)
    flat: int = 0
    flat_right: int = 0
    unread: int = 0
    misses: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        within = sum(e <= 0.25 for e in self.relative_errors)
        return {
            "cases": self.cases, "growing": self.growing,
            "growing_forecast": self.forecast_growing,
            "median_error_hours": round(statistics.median(self.errors_hours), 2)
            if self.errors_hours else None,
            "median_relative_error": round(statistics.median(self.relative_errors), 3)
            if self.relative_errors else None,
            "within_25_percent": within / len(self.relative_errors)
            if self.relative_errors else None,
            "flat": self.flat, "flat_right": self.flat_right, "unread": self.unread,
        }


def render(report: Report) -> str:
    f = report.as_dict()
    lines = [f"{report.cases} series: {report.growing} running out, {report.flat} flat "
             "or falling"]
    if report.errors_hours:
        lines += [
            f"exhaustion forecast for {report.forecast_growing}/{report.growing} running out",
            f"error of the forecast   median {f['median_error_hours']} h, median "
            f"{report.relative_errors and statistics.median(report.relative_errors):.1%} of "
            "the time left",
            f"within 25% of the time left   {f['within_25_percent']:.1%}"]
    lines.append(f"flat or falling told apart   {report.flat_right}/{report.flat}")
    if report.unread:
        lines.append(f"series the agent could not read   {report.unread}")
    return "\n".join(lines)


async def evaluate(cases: Sequence[Case], settings: CapacitySettings,
                   progress: Progress | None = None) -> Report:
    report = Report(cases=len(cases))
    lookback = timedelta(hours=settings.lookback_hours)
    for n, case in enumerate(cases, start=1):
        readings = [r for r in (reading(e, received=e.received_at) for e in alerts(case))
                    if r is not None]
        truth = case.exhaustion_hours()
        report.growing += truth is not None
        report.flat += truth is None
        if len(readings) < settings.min_points:
            report.unread += 1
            report.misses.append(f"{case.id}: the agent read {len(readings)} points")
            continue
        async with evaluation.case_store(store.metadata) as db, db.transaction() as tx:
            await store.add(tx.session, readings)
            last = readings[-1]
            history = await store.recent(tx.session, last.series, last.at - lookback)
        found = forecast([(r.at, r.value) for r in history], last.limit)
        if truth is None:
            right = found.hours_left is None or found.hours_left > 24 * 30
            report.flat_right += right
            if not right:
                report.misses.append(f"{case.id}: flat, forecast to run out in "
                                     f"{found.hours_left:.1f} h")
        elif found.hours_left is None:
            report.misses.append(f"{case.id}: runs out in {truth:.1f} h, forecast flat")
        else:
            report.forecast_growing += 1
            error = abs(found.hours_left - truth)
            report.errors_hours.append(error)
            report.relative_errors.append(error / truth if truth else error)
            if error / max(truth, 1e-9) > 0.25:
                report.misses.append(f"{case.id}: runs out in {truth:.1f} h, forecast "
                                     f"{found.hours_left:.1f} h")
        if progress is not None:
            progress(n)
    return report


async def run(paths: Sequence[Path], *, chain: str, llm: object = None,
              progress: Progress | None = None) -> Report:
    """The entry point ``reasonops agents eval --agent capacity`` calls. The forecast is
    the rules' (a provider words it, the numbers stay), so ``chain`` is not used; the
    look-back and minimum of points are the service's defaults."""
    return await evaluate(load_cases(*paths), CapacitySettings(), progress)
