"""Category from weighted keyword and label heuristics. Pure: no I/O, no clock."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from reasonops_contracts.agents import Category, TriageRequested

from .signals import (
    CATEGORIES,
    EXPLICIT_CATEGORY_WEIGHT,
    IDENTITY_LABELS,
    KEYWORDS,
    LABEL_KEY_WEIGHT,
    LABEL_KEYS,
    LOCATION_WEIGHTS,
)

# Ties go to the more specific category; application is the catch-all.
TIE_ORDER: tuple[Category, ...] = (
    "security", "database", "storage", "network", "infrastructure", "application",
)
DEFAULT_CATEGORY: Category = "application"

NO_SIGNAL_CONFIDENCE = 0.2
BASE_CONFIDENCE = 0.3
CONFIDENCE_SPAN = 0.65
STRONG_EVIDENCE = 6.0
"""A winner scoring this much or more counts as fully supported."""

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NON_WORD = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Signal:
    """One piece of evidence: ``term`` found in ``where`` points at ``category``."""

    category: Category
    where: str
    term: str
    points: float

    def describe(self) -> str:
        return f"{self.where}: '{self.term}' -> {self.category} (+{self.points:g})"


@dataclass(frozen=True)
class Classification:
    category: Category
    scores: Mapping[Category, float]
    signals: tuple[Signal, ...]
    """Evidence for the chosen category, strongest first."""
    runner_up: Category | None
    confidence: float
    words: frozenset[str]
    """Every (stemmed) word seen in the request's text."""


def _stem(token: str) -> str:
    # Enough to make "disks", "errors", "packets" and "https" match their singular.
    return token[:-1] if len(token) > 3 and token.endswith("s") and not token.endswith("ss") \
        else token


def tokens(text: str) -> tuple[str, ...]:
    """Split camelCase and punctuation, lower-case, stem: ``OOMKilled`` -> (oom, killed)."""
    spaced = _CAMEL.sub(" ", text).lower()
    return tuple(_stem(t) for t in _NON_WORD.split(spaced) if t)


_TERMS: dict[Category, tuple[tuple[str, str, float], ...]] = {
    category: tuple((term, " ".join(tokens(term)), weight) for term, weight in terms.items())
    for category, terms in KEYWORDS.items()
}


def _sources(request: TriageRequested) -> Iterator[tuple[str, str, str]]:
    """(kind, place, text) for every text the rules read; identical texts are read once."""
    labels, notes = request.labels, request.annotations
    candidates = [
        ("alertname", "alertname", labels.get("alertname")),
        *[("label", f"label {name}", labels.get(name)) for name in IDENTITY_LABELS],
        ("title", "title", request.title),
        ("summary", "summary", notes.get("summary")),
        ("service", "service", request.service),
        ("resource", "resource", request.resource),
        ("description", "description", notes.get("description") or notes.get("message")),
    ]
    seen: set[str] = set()
    for kind, place, text in candidates:
        key = " ".join(tokens(text or ""))
        if key and key not in seen:
            seen.add(key)
            yield kind, place, text or ""


def _text_signals(kind: str, place: str, text: str) -> Iterator[Signal]:
    padded = f" {' '.join(tokens(text))} "
    for category, terms in _TERMS.items():
        for term, stemmed, weight in terms:
            if f" {stemmed} " in padded:
                yield Signal(category, place, term, weight * LOCATION_WEIGHTS[kind])


def collect(request: TriageRequested) -> tuple[list[Signal], frozenset[str]]:
    """All evidence in the request, and the words it was found among."""
    found: list[Signal] = []
    words: set[str] = set()
    for kind, place, text in _sources(request):
        words.update(tokens(text))
        found.extend(_text_signals(kind, place, text))
    for category, keys in LABEL_KEYS.items():
        found.extend(Signal(category, "label name", key, LABEL_KEY_WEIGHT)
                     for key in sorted(keys.intersection(request.labels)))
    explicit = (request.labels.get("category") or request.annotations.get("category") or "")
    explicit = explicit.strip().lower()
    for category in CATEGORIES:
        if explicit == category:
            found.append(Signal(category, "category label", explicit, EXPLICIT_CATEGORY_WEIGHT))
    return found, frozenset(words)


def confidence(best: float, second: float) -> float:
    """High when the winner is both well supported and clearly ahead of the runner-up."""
    if best <= 0:
        return NO_SIGNAL_CONFIDENCE
    margin = (best - second) / best
    support = min(1.0, best / STRONG_EVIDENCE)
    return round(BASE_CONFIDENCE + CONFIDENCE_SPAN * margin * support, 2)


def classify(request: TriageRequested) -> Classification:
    """Score every category; the best wins, ties go to the more specific one."""
    signals, words = collect(request)
    scores: dict[Category, float] = dict.fromkeys(CATEGORIES, 0.0)
    for signal in signals:
        scores[signal.category] += signal.points
    ranked = sorted(TIE_ORDER, key=lambda c: -scores[c])
    best, second = ranked[0], ranked[1]
    if scores[best] <= 0:
        best = DEFAULT_CATEGORY
    evidence = sorted((s for s in signals if s.category == best), key=lambda s: -s.points)
    return Classification(
        category=best,
        scores=scores,
        signals=tuple(evidence),
        runner_up=second if scores[second] > 0 else None,
        confidence=confidence(scores[best], scores[second]),
        words=words,
    )
