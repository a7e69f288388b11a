"""What of an incident's alerts a model is shown: a storm's hundreds of alerts one by one
would cost a model more than they tell it, and overflow its context.

The earliest alerts (the first to fire say most about a cause) are shown one by one;
when there are more, every alert is counted by service and name, with when the first
and last fired and a few fingerprints it may cite as evidence. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .domain import AlertSeen

ONE_BY_ONE = 30
"""Alerts of a kind (the incident's own, its dependencies') shown one by one."""
GROUPS = 40
"""(service, name) groups counted; the rest are summed in one line."""
CITABLE = 3
"""Fingerprints of a group a model may cite."""


def shown(alerts: Sequence[AlertSeen]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(the earliest ``ONE_BY_ONE`` alerts, each as it is; every alert counted by
    service and name, the earliest group first; empty when all were shown)."""
    ordered = sorted(alerts, key=lambda a: a.at)
    first = [dict(vars(a)) for a in ordered[:ONE_BY_ONE]]
    if len(ordered) <= ONE_BY_ONE:
        return first, []
    groups: dict[tuple[str | None, str], list[AlertSeen]] = {}
    for alert in ordered:
        groups.setdefault((alert.service, alert.name), []).append(alert)
    counted: list[dict[str, Any]] = [
        {"service": service, "name": name, "count": len(group),
         "first_at": group[0].at, "last_at": group[-1].at,
         "fingerprints": [a.fingerprint for a in group[:CITABLE]]}
        for (service, name), group in list(groups.items())[:GROUPS]]
    rest = list(groups.values())[GROUPS:]
    if rest:
        counted.append({"service": None, "name": f"{len(rest)} other alert names",
                        "count": sum(len(g) for g in rest),
                        "first_at": min(g[0].at for g in rest),
                        "last_at": max(g[-1].at for g in rest), "fingerprints": []})
    return first, counted
