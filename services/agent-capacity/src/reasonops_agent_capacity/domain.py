"""Capacity forecasts from the values alerts carry. Pure: no I/O, no broker, no clock.

A least-squares line through the recent points of one series gives the growth rate;
the time to exhaustion is the head-room left divided by that rate. When exhaustion
comes before the incident could be resolved, urgency goes up.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from reasonops_contracts.agents import CapacityOutput
from reasonops_contracts.ingest import EventAccepted

_CAPACITY = re.compile(
    r"disk|filesystem|file system|volume|inode|space|storage|memory|heap|oom|swap|"
    r"connection[ _-]?pool|connections|pool|quota|capacity|full|fillingup|filling up",
    re.IGNORECASE)
_VALUE_KEYS = ("value", "current_value", "usage", "usage_percent", "percent", "used_percent",
               "utilisation", "utilization")
_LIMIT_KEYS = ("limit", "capacity", "max", "maximum", "max_connections", "pool_size",
               "threshold_max")
_VALUE_STRING = re.compile(r"value=([-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)")
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*%")
_OF = re.compile(r"(\d+(?:\.\d+)?)\s*(?:of|/)\s*(\d+(?:\.\d+)?)")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")

# Hours to resolve by severity when nothing else is known (P1 4h ... P4 3 days).
DEFAULT_TARGETS: Mapping[str, float] = {"critical": 4.0, "error": 8.0, "warning": 24.0,
                                        "info": 72.0}


@dataclass(frozen=True)
class Reading:
    series: str
    metric: str
    resource: str | None
    value: float
    limit: float
    at: datetime
    severity: str
    fingerprint: str


@dataclass(frozen=True)
class Forecast:
    points: int
    latest: float
    limit: float
    slope_per_hour: float
    hours_left: float | None
    exhaustion_at: datetime | None


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return float(str(text).strip().rstrip("%"))
    except ValueError:
        return None


def _grafana_value(fields: Mapping[str, str]) -> float | None:
    """Grafana sends ``values`` (B=93.2 reduced value, C=1 the condition) and a
    ``valueString``; the measurement is the first value that is not a 0/1 condition."""
    raw = fields.get("values")
    if raw:
        try:
            values = json.loads(raw)
        except ValueError:
            values = {}
        for value in (values.values() if isinstance(values, dict) else []):
            if isinstance(value, int | float) and value not in (0, 1):
                return float(value)
    match = _VALUE_STRING.search(fields.get("valueString", "") or fields.get("value_string", ""))
    return float(match.group(1)) if match else None


def reading(event: EventAccepted, *, received: datetime) -> Reading | None:
    """The capacity measurement an alert carries, or None if it carries none."""
    fields = {**event.labels, **event.annotations}
    text = " ".join(filter(None, [_CAMEL.sub(" ", event.name), event.summary,
                                  fields.get("category")]))
    if event.status != "firing" or not _CAPACITY.search(text):
        return None
    value = next((v for v in (_number(fields.get(k)) for k in _VALUE_KEYS) if v is not None),
                 None)
    value = value if value is not None else _grafana_value(fields)
    limit = next((v for v in (_number(fields.get(k)) for k in _LIMIT_KEYS) if v is not None),
                 None)
    if value is None:
        match = _OF.search(event.summary)
        if match:
            value, limit = float(match.group(1)), limit or float(match.group(2))
        else:
            percent = _PERCENT.search(event.summary)
            value = float(percent.group(1)) if percent else None
    if value is None:
        return None
    limit = limit if limit is not None else 100.0
    where = fields.get("mountpoint") or fields.get("device") or fields.get("pool") or ""
    series = "|".join([event.service or "-", event.resource or "-", event.name, where])
    return Reading(series=series, metric=event.name, resource=event.resource, value=value,
                   limit=limit, at=event.starts_at or received, severity=event.severity,
                   fingerprint=event.fingerprint)


def forecast(points: Sequence[tuple[datetime, float]], limit: float) -> Forecast:
    """Least squares over (hours, value); exhaustion when the line reaches ``limit``."""
    ordered = sorted(points)
    origin = ordered[0][0]
    xs = [(at - origin).total_seconds() / 3600 for at, _ in ordered]
    ys = [value for _, value in ordered]
    n = len(xs)
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    spread = sum((x - mean_x) ** 2 for x in xs)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread \
        if spread > 0 else 0.0
    latest_at, latest = ordered[-1]
    if slope <= 0:
        return Forecast(n, latest, limit, round(slope, 6), None, None)
    hours = max(0.0, (limit - latest) / slope)
    return Forecast(n, latest, limit, round(slope, 6), round(hours, 3),
                    latest_at + timedelta(hours=hours))


def urgency(hours_left: float | None, target: float) -> tuple[int, str]:
    if hours_left is None:
        return 3, "usage is flat or falling: no exhaustion forecast"
    if hours_left <= target:
        return 1, (f"exhaustion in {hours_left:.1f}h is within the {target:g}h resolution "
                   "target -> urgency 1")
    if hours_left <= 3 * target:
        return 2, f"exhaustion in {hours_left:.1f}h is within 3x the {target:g}h target"
    return 3, f"exhaustion in {hours_left:.1f}h leaves time beyond the {target:g}h target"


def assess(latest: Reading, found: Forecast, target: float) -> CapacityOutput:
    level, why = urgency(found.hours_left, target)
    reasons = [f"{found.points} points, latest {found.latest:g} of {found.limit:g}",
               f"trend {found.slope_per_hour:+.3f} per hour (least squares)", why]
    when = (f"runs out in about {found.hours_left:.1f}h" if found.hours_left is not None
            else "is not growing")
    return CapacityOutput(
        series=latest.series, metric=latest.metric, resource=latest.resource,
        points=found.points, latest_value=found.latest, limit=found.limit,
        slope_per_hour=found.slope_per_hour, exhaustion_at=found.exhaustion_at,
        hours_to_exhaustion=found.hours_left, resolution_target_hours=target,
        suggested_urgency=level, reasons=reasons,
        summary=f"{latest.metric} on {latest.resource or latest.series} {when} "
                f"(now {found.latest:g} of {found.limit:g}); suggested urgency {level}.")
