"""Suggested impact, urgency and priority (ITIL matrix), from severity, labels and words."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from reasonops_contracts.agents import Category

from .signals import OUTAGE_TERMS

# Rows: impact 1..3, columns: urgency 1..3 (1 = high). P1 is the most urgent.
PRIORITY_MATRIX: tuple[tuple[int, int, int], ...] = (
    (1, 2, 3),
    (2, 3, 4),
    (3, 4, 5),
)

SEVERITY_DEFAULTS: Mapping[str, tuple[int, int]] = {
    "critical": (1, 1),
    "error": (2, 1),
    "warning": (2, 2),
    "info": (3, 2),
}

NON_PRODUCTION = frozenset({"dev", "development", "test", "testing", "staging", "qa", "sandbox"})


@dataclass(frozen=True)
class Suggestion:
    impact: int
    urgency: int
    priority: int
    reasons: tuple[str, ...]


def priority_of(impact: int, urgency: int) -> int:
    """Look up the ITIL matrix; impact and urgency are 1 (high) to 3 (low)."""
    if not (1 <= impact <= 3 and 1 <= urgency <= 3):
        raise ValueError(f"impact and urgency must be 1..3, got {impact} and {urgency}")
    return PRIORITY_MATRIX[impact - 1][urgency - 1]


def _level(labels: Mapping[str, str], name: str) -> int | None:
    raw = labels.get(name, "").strip().lower().removeprefix(name[0])
    return int(raw) if raw in {"1", "2", "3"} else None


def _scope(impact: int, labels: Mapping[str, str], reasons: list[str]) -> int:
    """How many are affected: tier-1 services matter most, non-production least."""
    tier = labels.get("tier", "").strip().lower().removeprefix("tier").strip("-_ ")
    if tier == "1" and impact > 1:
        impact = 1
        reasons.append("tier-1 service -> impact 1")
    env = (labels.get("environment") or labels.get("env") or "").strip().lower()
    if env in NON_PRODUCTION and impact < 3:
        impact += 1
        reasons.append(f"{env} environment -> impact {impact}")
    return impact


def _pressure(urgency: int, category: Category, words: Collection[str],
              reasons: list[str]) -> int:
    """How fast it must be fixed: outages and security incidents cannot wait."""
    outage = sorted(OUTAGE_TERMS.intersection(words))
    if outage and urgency > 1:
        urgency = 1
        reasons.append(f"'{outage[0]}' means users are cut off now -> urgency 1")
    if category == "security" and urgency > 1:
        urgency -= 1
        reasons.append(f"security incident -> urgency {urgency}")
    return urgency


def suggest(severity: str, labels: Mapping[str, str], category: Category,
            words: Collection[str]) -> Suggestion:
    """Severity sets the baseline; scope labels move impact, outage words and a security
    category raise urgency; explicit ``impact``/``urgency`` labels have the last word."""
    impact, urgency = SEVERITY_DEFAULTS.get(severity, SEVERITY_DEFAULTS["warning"])
    reasons = [f"severity {severity} -> impact {impact}, urgency {urgency}"]
    impact = _scope(impact, labels, reasons)
    urgency = _pressure(urgency, category, words, reasons)
    if (explicit := _level(labels, "impact")) is not None:
        impact = explicit
        reasons.append(f"impact label -> {impact}")
    if (explicit := _level(labels, "urgency")) is not None:
        urgency = explicit
        reasons.append(f"urgency label -> {urgency}")
    priority = priority_of(impact, urgency)
    reasons.append(f"impact {impact} x urgency {urgency} => P{priority}")
    return Suggestion(impact, urgency, priority, tuple(reasons))
