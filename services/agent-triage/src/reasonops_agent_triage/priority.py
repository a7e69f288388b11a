"""Suggested impact, urgency and priority: the shared ITIL assessment plus triage's signals."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from reasonops_contracts.agents import Category
from reasonops_contracts.priority import assess

from .signals import OUTAGE_TERMS


@dataclass(frozen=True)
class Suggestion:
    impact: int
    urgency: int
    priority: int
    reasons: tuple[str, ...]


def suggest(severity: str, labels: Mapping[str, str], category: Category,
            words: Collection[str]) -> Suggestion:
    """Severity and scope labels set the baseline; outage words and a security category
    raise urgency; explicit ``impact``/``urgency`` labels have the last word."""

    def pressure(impact: int, urgency: int, reasons: list[str]) -> tuple[int, int]:
        outage = sorted(OUTAGE_TERMS.intersection(words))
        if outage and urgency > 1:
            urgency = 1
            reasons.append(f"'{outage[0]}' means users are cut off now -> urgency 1")
        if category == "security" and urgency > 1:
            urgency -= 1
            reasons.append(f"security incident -> urgency {urgency}")
        return impact, urgency

    found = assess(severity, labels, pressure)
    reasons = (*found.reasons, f"impact {found.impact} x urgency {found.urgency} "
               f"=> P{found.priority}")
    return Suggestion(found.impact, found.urgency, found.priority, reasons)
