"""Service metrics for a month: availability, MTTA, MTTR, MTBF, breaches, error budget. Pure.

Downtime is the time a service had an open incident (first alert or opening until
resolution), weighted by the incident's impact (1 = whole service down). Where
incidents overlap, the heaviest weight counts, never their sum. Maintenance
windows are taken out of both the downtime and the time the service was due.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise

DEFAULT_IMPACT_WEIGHTS: Mapping[int, Decimal] = {1: Decimal("1"), 2: Decimal("0.5"),
                                                 3: Decimal("0.25")}
DEFAULT_SLO = Decimal("99.9")
Span = tuple[datetime, datetime]


@dataclass(frozen=True)
class Outage:
    incident_id: str
    service: str
    impact: int
    start: datetime
    end: datetime | None
    """None while the incident is unresolved."""


@dataclass(frozen=True)
class IncidentTimes:
    incident_id: str
    service: str
    opened_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None


@dataclass(frozen=True)
class Maintenance:
    service: str | None
    """None: every service."""
    start: datetime
    end: datetime


@dataclass(frozen=True)
class ServiceMonth:
    service: str
    month: str
    period_seconds: int
    maintenance_seconds: int
    downtime_seconds: int
    """Impact-weighted, outside maintenance."""
    availability: Decimal
    """Percent, 4 decimal places."""
    slo: Decimal
    error_budget_seconds: int
    error_budget_remaining_seconds: int
    error_budget_remaining_percent: Decimal
    incidents: int
    mtta_seconds: int | None
    mttr_seconds: int | None
    mtbf_seconds: int | None
    breaches: int


def month_bounds(month: str) -> Span:
    year, number = (int(part) for part in month.split("-"))
    start = datetime(year, number, 1, tzinfo=UTC)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=UTC)
    return start, end


def month_of(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m")


def next_month(month: str) -> str:
    return month_of(month_bounds(month)[1])


def _clip(span: Span, bounds: Span) -> Span | None:
    start, end = max(span[0], bounds[0]), min(span[1], bounds[1])
    return (start, end) if end > start else None


def _union(spans: Iterable[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _seconds(spans: Iterable[Span]) -> Decimal:
    return sum((Decimal((e - s).total_seconds()) for s, e in spans), Decimal(0))


def weighted_downtime(outages: Iterable[tuple[Span, Decimal]], maintenance: Sequence[Span]
                      ) -> Decimal:
    """Seconds of downtime times the heaviest weight at each moment, maintenance excluded."""
    points: set[datetime] = set()
    spans = list(outages)
    for (start, end), _ in spans:
        points |= {start, end}
    for start, end in maintenance:
        points |= {start, end}
    ordered = sorted(points)
    total = Decimal(0)
    for start, end in pairwise(ordered):
        if any(m0 <= start and end <= m1 for m0, m1 in maintenance):
            continue
        weight = max((w for (s, e), w in spans if s <= start and end <= e), default=Decimal(0))
        total += weight * Decimal((end - start).total_seconds())
    return total


def _mean(values: list[float]) -> int | None:
    return round(sum(values) / len(values)) if values else None


def service_month(*, service: str, month: str, outages: Iterable[Outage],
                  incidents: Iterable[IncidentTimes], maintenance: Iterable[Maintenance],
                  breaches: int, now: datetime, slo: Decimal = DEFAULT_SLO,
                  weights: Mapping[int, Decimal] = DEFAULT_IMPACT_WEIGHTS,
                  bounds: Span | None = None) -> ServiceMonth:
    """The month's figures for one service (or those of ``bounds``, labelled ``month``);
    an unfinished period counts up to ``now``."""
    bounds = bounds or month_bounds(month)
    period = bounds[0], min(bounds[1], max(now, bounds[0]))
    windows = _union(c for m in maintenance if m.service in (None, service)
                     if (c := _clip((m.start, m.end), period)) is not None)
    due = _seconds([period]) - _seconds(windows)
    weighted = []
    for o in outages:
        if o.service == service and (c := _clip((o.start, o.end or period[1]), period)):
            weighted.append((c, weights.get(o.impact, Decimal(1))))
    down = weighted_downtime(weighted, windows)
    availability = (Decimal(100) if due <= 0 else
                    (100 - down / due * 100).quantize(Decimal("0.0001"), ROUND_HALF_UP))
    budget = (100 - slo) / 100 * due
    mine = [i for i in incidents if i.service == service]
    opened = [i for i in mine if bounds[0] <= i.opened_at < bounds[1]]
    acked = [(i.acknowledged_at - i.opened_at).total_seconds() for i in opened
             if i.acknowledged_at is not None]
    repaired = [(i.resolved_at - i.opened_at).total_seconds() for i in mine
                if i.resolved_at is not None and bounds[0] <= i.resolved_at < bounds[1]]
    return ServiceMonth(
        service=service, month=month, period_seconds=int(_seconds([period])),
        maintenance_seconds=int(_seconds(windows)), downtime_seconds=round(down),
        availability=availability, slo=slo, error_budget_seconds=round(budget),
        error_budget_remaining_seconds=round(budget - down),
        error_budget_remaining_percent=(Decimal(0) if budget <= 0 else
                                        ((budget - down) / budget * 100).quantize(
                                            Decimal("0.01"), ROUND_HALF_UP)),
        incidents=len(opened), mtta_seconds=_mean(acked), mttr_seconds=_mean(repaired),
        mtbf_seconds=round((due - down) / len(opened)) if opened else None,
        breaches=breaches)
