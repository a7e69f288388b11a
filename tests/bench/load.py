"""Synthetic Alertmanager traffic: N alerts over F distinct fingerprints."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def alert(i: int, fingerprints: int, prefix: str = "bench") -> dict[str, object]:
    n = i % fingerprints
    return {
        "status": "firing",
        "labels": {"alertname": "HighErrorRate", "service": f"svc-{n % 50}",
                   "severity": ("critical", "error", "warning")[n % 3],
                   "instance": f"{prefix}-host-{n}:9100", "job": "node", "team": "platform"},
        "annotations": {"summary": f"5xx ratio above 5% on {prefix}-host-{n}",
                        "description": "error ratio 7.3% for 5 minutes"},
        "startsAt": (T0 + timedelta(seconds=i)).isoformat().replace("+00:00", "Z"),
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph?g0.expr=x",
        "fingerprint": f"{prefix[:4]}{n:012x}",
    }


def webhook(alerts: list[dict[str, object]]) -> bytes:
    return json.dumps({
        "version": "4", "groupKey": "{}:{alertname=\"HighErrorRate\"}", "truncatedAlerts": 0,
        "status": "firing", "receiver": "reasonops", "groupLabels": {}, "commonLabels": {},
        "commonAnnotations": {}, "externalURL": "http://alertmanager:9093", "alerts": alerts,
    }).encode()


def webhooks(count: int, fingerprints: int, per_post: int, prefix: str = "bench",
             offset: int = 0) -> list[bytes]:
    alerts = [alert(offset + i, fingerprints, prefix) for i in range(count)]
    return [webhook(alerts[i:i + per_post]) for i in range(0, count, per_post)]
