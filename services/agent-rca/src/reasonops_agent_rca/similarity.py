"""Lexical similarity between incidents: token sets weighted by rarity. Pure."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset({"the", "a", "an", "on", "of", "in", "for", "to", "is", "and", "at", "by",
                   "from", "with", "than", "above", "below"})


def words(text: str) -> frozenset[str]:
    lowered = _CAMEL.sub(" ", text).lower()
    return frozenset(w for w in _WORD.findall(lowered) if w not in _STOP and len(w) > 1)


def idf(documents: Iterable[frozenset[str]]) -> dict[str, float]:
    docs = list(documents)
    counts: Counter[str] = Counter(w for d in docs for w in d)
    return {w: math.log((1 + len(docs)) / (1 + n)) + 1 for w, n in counts.items()}


def similarity(a: frozenset[str], b: frozenset[str], weights: Mapping[str, float]) -> float:
    """Weighted Jaccard: shared rare words count more than shared common ones."""
    union = a | b
    if not union:
        return 0.0
    shared = sum(weights.get(w, 1.0) for w in a & b)
    return shared / sum(weights.get(w, 1.0) for w in union)


def most_similar(query: frozenset[str], candidates: Sequence[tuple[str, frozenset[str]]],
                 *, limit: int = 3, floor: float = 0.25) -> list[tuple[str, float]]:
    weights = idf([query, *(c for _, c in candidates)])
    scored = [(key, round(similarity(query, words_, weights), 3)) for key, words_ in candidates]
    return sorted((s for s in scored if s[1] >= floor), key=lambda s: -s[1])[:limit]
