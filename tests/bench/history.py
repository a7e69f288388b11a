"""Synthetic monitoring histories for ``reasonops simulate``: incidents that fire, repeat,
get acknowledged and resolve, spread over days, deterministic for a seed."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

SERVICES = (("checkout", "critical"), ("auth", "critical"), ("search", "warning"),
            ("payments-db", "critical"), ("users-db", "warning"))


def write_history(path: Path, *, days: int, per_day: int, incidents_per_day: int = 40,
                  start: datetime = datetime(2026, 1, 1, tzinfo=UTC), seed: int = 7) -> int:
    """Write about ``per_day`` events a day; return how many were written."""
    rng = random.Random(seed)
    lines: list[tuple[datetime, str]] = []
    serial = 0
    for day in range(days):
        midnight = start + timedelta(days=day)
        for _ in range(incidents_per_day):
            serial += 1
            lines += _incident(rng, serial, midnight, per_day // incidents_per_day)
    lines.sort(key=lambda item: item[0])
    with path.open("w", encoding="utf-8") as out:
        for _, text in lines:
            out.write(text + "\n")
    return len(lines)


def _incident(rng: random.Random, serial: int, midnight: datetime, events: int
              ) -> list[tuple[datetime, str]]:
    service, severity = rng.choice(SERVICES)
    fingerprint = f"{service}-{serial:07d}"
    opened = midnight + timedelta(seconds=rng.randrange(0, 86400 - 7200))
    lasts = timedelta(seconds=rng.randrange(300, 6 * 3600))
    alert = {"fingerprint": fingerprint, "name": "HighErrorRate", "severity": severity,
             "service": service, "resource": f"{service}-pod", "summary": f"{service} errors",
             "starts_at": opened.isoformat()}
    out = [(opened, _line(opened, alert=alert | {"status": "firing"}))]
    repeats = max(0, events - 3)
    for n in range(1, repeats + 1):
        at = opened + lasts * n / (repeats + 1)
        out.append((at, _line(at, alert=alert | {"status": "firing"})))
    if rng.random() < 0.7:
        at = opened + timedelta(seconds=rng.randrange(60, 3600))
        if at < opened + lasts:
            out.append((at, _line(at, action="acknowledge", fingerprint=fingerprint)))
    resolved = opened + lasts
    out.append((resolved, _line(resolved, alert=alert | {"status": "resolved"})))
    closed = resolved + timedelta(hours=1)
    out.append((closed, _line(closed, action="close", fingerprint=fingerprint)))
    return out


def _line(at: datetime, **fields: object) -> str:
    return json.dumps({"at": at.isoformat(), **fields})
