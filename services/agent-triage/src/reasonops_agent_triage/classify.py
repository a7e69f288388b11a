"""Category from the vocabularies' terms, found in labels, names and text. Pure: no
I/O, no clock."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache

from reasonops_contracts.agents import Category, TriageRequested

from .signals import (
    EXPLICIT_CATEGORY_WEIGHT,
    LABEL_KEY_WEIGHT,
    LOCATION_WEIGHTS,
    NOT_READ_LABELS,
    RESOURCE_TYPE_LABELS,
    TOOL_LABELS,
    WHERE_LABELS,
)
from .vocabulary import CATEGORIES, Vocabulary, load, tokens

__all__ = ["classify", "confidence", "tokens"]

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


@cache
def shipped_vocabulary() -> Vocabulary:
    return load()


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
    text: str = ""
    """The texts read, their words in order, separated by ``|``."""


def _says_where(name: str) -> bool:
    return name.lower() in WHERE_LABELS or not WHERE_LABELS.isdisjoint(tokens(name))


def _kind(label: str) -> str:
    if label.lower() in RESOURCE_TYPE_LABELS:
        return "resource type"
    return "resource" if _says_where(label) else "label"


def _sources(request: TriageRequested) -> Iterator[tuple[str, str, str]]:
    """(kind, place, text) for every text the rules read; identical texts are read once."""
    labels, notes = request.labels, request.annotations
    candidates = [
        ("alertname", "alertname", labels.get("alertname")),
        *[(_kind(name), f"label {name}", value)
          for name, value in labels.items() if name.lower() not in NOT_READ_LABELS],
        ("title", "title", request.title),
        ("summary", "summary", notes.get("summary")),
        ("service", "service", request.service),
        ("resource", "resource", request.resource),
        ("description", "description", notes.get("description") or notes.get("message")),
    ]
    seen: set[tuple[str, ...]] = set()
    for kind, place, text in candidates:
        key = tokens(text or "")
        if key and key not in seen:
            seen.add(key)
            yield kind, place, text or ""


def _text_signals(vocabulary: Vocabulary, kind: str, place: str,
                  words: tuple[str, ...]) -> Iterator[Signal]:
    weight = LOCATION_WEIGHTS[kind]
    found = {(t.category, t.term): t.weight for t in vocabulary.found(words)}
    for (category, term), points in found.items():
        yield Signal(category, place, term, points * weight)
    for i, word in enumerate(words):
        for category, points in vocabulary.ids.get(word, ()):
            if i and (words[i - 1] in vocabulary.id_words
                      or (i > 1 and words[i - 2] in vocabulary.id_words)):
                yield Signal(category, place, f"{words[i - 1]} {word}", points * weight)


def _label_signals(vocabulary: Vocabulary, request: TriageRequested) -> Iterator[Signal]:
    labels = request.labels
    for name, value in labels.items():
        if name in vocabulary.id_labels:
            for category, points in vocabulary.ids.get(value.strip(), ()):
                yield Signal(category, f"label {name}", value.strip(),
                             points * LOCATION_WEIGHTS["label"])
    names = tuple(w for name in labels if name.lower() not in NOT_READ_LABELS
                  and not _says_where(name) for w in tokens(name))
    yield from _text_signals(vocabulary, "label name", "label name", names)
    for category, keys in vocabulary.label_names.items():
        yield from (Signal(category, "label name", key, LABEL_KEY_WEIGHT)
                    for key in sorted(keys.intersection(labels)))
    tool = request.annotations.get("source_tool") or next(
        (labels[k] for k in TOOL_LABELS if labels.get(k)), "")
    known = vocabulary.tool(tool) if tool else None
    if known is not None:
        yield Signal(known, "tool", tool, vocabulary.tool_weight * LOCATION_WEIGHTS["tool"])


def collect(request: TriageRequested,
            vocabulary: Vocabulary | None = None) -> tuple[list[Signal], list[tuple[str, ...]]]:
    """All evidence in the request, and the texts (as words) it was found among."""
    vocabulary = vocabulary or shipped_vocabulary()
    found: list[Signal] = []
    texts: list[tuple[str, ...]] = []
    for kind, place, text in _sources(request):
        split = tokens(text)
        texts.append(split)
        found.extend(_text_signals(vocabulary, kind, place, split))
    found.extend(_label_signals(vocabulary, request))
    explicit = (request.labels.get("category") or request.annotations.get("category") or "")
    explicit = explicit.strip().lower()
    for category in CATEGORIES:
        if explicit == category:
            found.append(Signal(category, "category label", explicit, EXPLICIT_CATEGORY_WEIGHT))
    return found, texts


def confidence(best: float, second: float) -> float:
    """High when the winner is both well supported and clearly ahead of the runner-up."""
    if best <= 0:
        return NO_SIGNAL_CONFIDENCE
    margin = (best - second) / best
    support = min(1.0, best / STRONG_EVIDENCE)
    return round(BASE_CONFIDENCE + CONFIDENCE_SPAN * margin * support, 2)


def classify(request: TriageRequested, vocabulary: Vocabulary | None = None) -> Classification:
    """Score every category; the best wins, ties go to the more specific one."""
    signals, texts = collect(request, vocabulary)
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
        scores={c: round(v, 3) for c, v in scores.items()},
        signals=tuple(evidence),
        runner_up=second if scores[second] > 0 else None,
        confidence=confidence(scores[best], scores[second]),
        words=frozenset(w for text in texts for w in text),
        text=" | ".join(" ".join(text) for text in texts),
    )
