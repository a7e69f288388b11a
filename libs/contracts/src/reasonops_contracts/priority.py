"""ITIL priority (impact x urgency), shared by every service that sets or suggests one."""

from __future__ import annotations

from collections.abc import Callable, Mapping
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
    reasons: tuple[str, ...]

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons) + f" => P{self.priority}"


def priority_of(impact: int, urgency: int) -> int:
    """Look up the ITIL matrix; impact and urgency are 1 (high) to 3 (low)."""
    if not (1 <= impact <= 3 and 1 <= urgency <= 3):
        raise ValueError(f"impact and urgency must be 1..3, got {impact} and {urgency}")
    return PRIORITY_MATRIX[impact - 1][urgency - 1]


def label_level(labels: Mapping[str, str], name: str) -> int | None:
    """An ``impact``/``urgency`` label as 1..3 ("2", "I2", "u2"); None if absent or invalid."""
    raw = labels.get(name)
    if raw is None:
        return None
    value = raw.strip().lower().removeprefix(name[0])
    return int(value) if value in {"1", "2", "3"} else None


Adjust = Callable[[int, int, list[str]], tuple[int, int]]


def assess(severity: str, labels: Mapping[str, str], adjust: Adjust | None = None) -> Assessment:
    """Impact and urgency from severity, then labels: ``tier: 1`` raises impact to 1, a
    non-production ``environment``/``env`` lowers it; ``adjust`` (e.g. an agent's own
    signals) comes next; explicit ``impact``/``urgency`` labels have the last word.
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
    if adjust is not None:
        impact, urgency = adjust(impact, urgency, reasons)
    if (explicit := label_level(labels, "impact")) is not None:
        impact = explicit
        reasons.append(f"impact label -> {impact}")
    if (explicit := label_level(labels, "urgency")) is not None:
        urgency = explicit
        reasons.append(f"urgency label -> {urgency}")
    return Assessment(impact, urgency, priority_of(impact, urgency), tuple(reasons))
