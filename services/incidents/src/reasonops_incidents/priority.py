"""ITIL priority: impact x urgency, with impact and urgency derived from an alert."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# Rows: impact 1..3, columns: urgency 1..3 (1 = high). P1 is the most urgent.
PRIORITY_MATRIX: tuple[tuple[int, int, int], ...] = (
    (1, 2, 3),
    (2, 3, 4),
    (3, 4, 5),
)

# Canonical severity -> (impact, urgency) when no label says otherwise.
SEVERITY_DEFAULTS: Mapping[str, tuple[int, int]] = {
    "critical": (1, 1),  # P1
    "error": (2, 1),     # P2
    "warning": (2, 2),   # P3
    "info": (3, 2),      # P4
}

NON_PRODUCTION = frozenset({"dev", "development", "test", "testing", "staging", "qa", "sandbox"})


@dataclass(frozen=True)
class Assessment:
    impact: int
    urgency: int
    priority: int
    reason: str


def priority_of(impact: int, urgency: int) -> int:
    """Look up the ITIL matrix; impact and urgency are 1 (high) to 3 (low)."""
    if not (1 <= impact <= 3 and 1 <= urgency <= 3):
        raise ValueError(f"impact and urgency must be 1..3, got {impact} and {urgency}")
    return PRIORITY_MATRIX[impact - 1][urgency - 1]


def _level(labels: Mapping[str, str], name: str) -> int | None:
    raw = labels.get(name)
    if raw is None:
        return None
    value = raw.strip().lower().removeprefix(name[0])  # "1", "i1" / "u1" style
    return int(value) if value in {"1", "2", "3"} else None


def assess(severity: str, labels: Mapping[str, str]) -> Assessment:
    """Impact and urgency from severity, then labels: ``impact``/``urgency`` override,
    ``tier: 1`` raises impact to 1, a non-production ``environment``/``env`` lowers it.
    """
    impact, urgency = SEVERITY_DEFAULTS.get(severity, SEVERITY_DEFAULTS["warning"])
    reasons = [f"severity {severity} -> impact {impact}, urgency {urgency}"]
    tier = labels.get("tier", "").strip().lower().removeprefix("tier").strip("-_ ")
    if tier == "1" and impact > 1:
        impact = 1
        reasons.append("tier-1 service -> impact 1")
    env = (labels.get("environment") or labels.get("env") or "").strip().lower()
    if env in NON_PRODUCTION and impact < 3:
        impact += 1
        reasons.append(f"{env} environment -> impact {impact}")
    if (explicit := _level(labels, "impact")) is not None:
        impact = explicit
        reasons.append(f"impact label -> {impact}")
    if (explicit := _level(labels, "urgency")) is not None:
        urgency = explicit
        reasons.append(f"urgency label -> {urgency}")
    priority = priority_of(impact, urgency)
    return Assessment(impact, urgency, priority, "; ".join(reasons) + f" => P{priority}")
