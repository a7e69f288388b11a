"""Lexical similarity between incidents: token sets weighted by rarity. Pure."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from itertools import chain

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset({"the", "a", "an", "on", "of", "in", "for", "to", "is", "and", "at", "by",
                   "from", "with", "than", "above", "below"})


def words(text: str) -> frozenset[str]:
    lowered = _CAMEL.sub(" ", text).lower()
    return frozenset(w for w in _WORD.findall(lowered) if w not in _STOP and len(w) > 1)


def idf(documents: Iterable[frozenset[str]]) -> dict[str, float]:
    docs = list(documents)
    counts: Counter[str] = Counter(chain.from_iterable(docs))
    n = len(docs)
    return {w: math.log((1 + n) / (1 + c)) + 1 for w, c in counts.items()}


def similarity(a: frozenset[str], b: frozenset[str], weights: Mapping[str, float]) -> float:
    """Weighted Jaccard: shared rare words count more than shared common ones."""
    union = a | b
    if not union:
        return 0.0
    shared = sum(weights.get(w, 1.0) for w in a & b)
    return shared / sum(weights.get(w, 1.0) for w in union)


def most_similar(query: frozenset[str], candidates: Sequence[tuple[str, frozenset[str]]],
                 *, limit: int = 3, floor: float = 0.25) -> list[tuple[str, float]]:
    """The ``limit`` candidates most like ``query`` scoring at least ``floor``.

    The scores of ``similarity``, computed faster for the up to 2,000 candidates of a
    request: every word is in ``weights`` (query and candidates are its documents), and
    a candidate sharing no word scores 0 without sums."""
    weights = idf([query, *(c for _, c in candidates)])
    weight = weights.__getitem__
    scored = []
    for key, words_ in candidates:
        score = 0.0 if query.isdisjoint(words_) else round(
            sum(map(weight, query & words_)) / sum(map(weight, query | words_)), 3)
        if score >= floor:
            scored.append((key, score))
    return sorted(scored, key=lambda s: -s[1])[:limit]
