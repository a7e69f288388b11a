"""Suggested impact, urgency and priority: the shared ITIL assessment plus triage's signals."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from reasonops_contracts.agents import Category
from reasonops_contracts.priority import NON_PRODUCTION, assess

from .signals import (
    ALL_OUT_PHRASES,
    CAN_WAIT_PHRASES,
    CAN_WAIT_TERMS,
    COMPROMISE_PHRASES,
    COMPROMISE_TERMS,
    NO_ACTION_PHRASES,
    NO_ACTION_TERMS,
    OUTAGE_PHRASES,
    OUTAGE_TERMS,
    PRESSURE_PHRASES,
    PRESSURE_TERMS,
)
from .vocabulary import tokens


@dataclass(frozen=True)
class Suggestion:
    impact: int
    urgency: int
    priority: int
    reasons: tuple[str, ...]


def _first(words: Collection[str], text: str, terms: Collection[str],
           phrases: tuple[str, ...]) -> str | None:
    padded = f" {text} "
    return next((t for t in sorted(terms) if " ".join(tokens(t)) in words), None) or next(
        (p for p in phrases if f" {' '.join(tokens(p))} " in padded), None)


def suggest(severity: str, labels: Mapping[str, str], category: Category,
            words: Collection[str], text: str = "") -> Suggestion:
    """Severity and scope labels set the baseline; then what the alert says: an attack
    under way is P1, users cut off now raise urgency, a critical alert that says neither
    is a major degradation (impact 2), outside production it can wait, a pipeline check
    needs nothing; explicit ``impact``/``urgency`` labels have the last word. ``text`` is
    the alert's folded, stemmed words in order (for phrases)."""

    def pressure(impact: int, urgency: int, reasons: list[str]) -> tuple[int, int]:
        if (check := _first(words, text, NO_ACTION_TERMS, NO_ACTION_PHRASES)) is not None:
            reasons.append(f"'{check}' only proves alerting works -> impact 3, urgency 3")
            return 3, 3
        attack = _first(words, text, COMPROMISE_TERMS, COMPROMISE_PHRASES) \
            if category == "security" else None
        outage = _first(words, text, OUTAGE_TERMS, OUTAGE_PHRASES)
        if attack is not None and (impact, urgency) != (1, 1):
            reasons.append(f"'{attack}' is an attack under way -> impact 1, urgency 1")
            return 1, 1
        if (everything := _first(words, text, (), ALL_OUT_PHRASES)) is not None:
            outage = outage or everything
            if impact > 1:
                impact = 1
                reasons.append(f"'{everything}': all of it is out -> impact 1")
        if outage is not None:
            urgency = 1
            reasons.append(f"'{outage}' means users are cut off now -> urgency 1")
        elif attack is None and outage is None and severity == "critical" and impact == 1 \
                and labels.get("tier", "").strip().lower().removeprefix("tier").strip("-_ ") \
                != "1":
            impact = 2
            reasons.append("critical, but nothing says users are cut off -> impact 2")
        if attack is None and outage is None and urgency == 1 and (wait := _first(
                words, text, CAN_WAIT_TERMS, CAN_WAIT_PHRASES)) is not None:
            urgency = 2
            reasons.append(f"'{wait}' can wait for the working day -> urgency 2")
        if attack is None and outage is None and urgency == 1 and severity != "critical" \
                and (load := _first(words, text, PRESSURE_TERMS, PRESSURE_PHRASES)) is not None:
            urgency = 2
            reasons.append(f"'{load}' past a threshold, still serving -> urgency 2")
        env = (labels.get("environment") or labels.get("env") or "").strip().lower()
        if env in NON_PRODUCTION and urgency < 3:
            urgency += 1
            reasons.append(f"{env} can wait -> urgency {urgency}")
        return impact, urgency

    found = assess(severity, labels, pressure)
    reasons = (*found.reasons, f"impact {found.impact} x urgency {found.urgency} "
               f"=> P{found.priority}")
    return Suggestion(found.impact, found.urgency, found.priority, reasons)
