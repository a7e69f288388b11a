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


class Corpus:
    """Candidates indexed once for many queries: how many have each word (for the rarity
    weights) and which have it (so that only those sharing a word are scored).

    A query's weights differ from the corpus' own only for its words and those of the
    candidates it leaves out, so each candidate's total weight is kept (per number of
    documents) and corrected for those words: a query's cost follows the postings of
    its words, not every word of every candidate it is compared with."""

    def __init__(self, candidates: Sequence[tuple[str, frozenset[str]]]) -> None:
        self.candidates = list(candidates)
        self.counts: Counter[str] = Counter(chain.from_iterable(c for _, c in self.candidates))
        self.having: dict[str, list[int]] = {}
        for position, (_, words_) in enumerate(self.candidates):
            for word in words_:
                self.having.setdefault(word, []).append(position)
        self.position = {key: n for n, (key, _) in enumerate(self.candidates)}
        self._totals: dict[int, tuple[dict[str, float], list[float]]] = {}

    def _weights(self, n: int) -> tuple[dict[str, float], list[float]]:
        """Each word's weight among ``n`` documents with the corpus' counts, and each
        candidate's total of them."""
        found = self._totals.get(n)
        if found is None:
            base = {w: math.log((1 + n) / (1 + c)) + 1 for w, c in self.counts.items()}
            found = self._totals[n] = (base, [sum(base[w] for w in c)
                                              for _, c in self.candidates])
        return found

    def most_similar(self, query: frozenset[str], *, leave_out: str | None = None,
                     first: int | None = None, limit: int = 3, floor: float = 0.25
                     ) -> list[tuple[str, float]]:
        """What :func:`most_similar` finds among the candidates but ``leave_out``, the
        ``first`` of them, with the same scores and order."""
        skipped = self.position.get(leave_out) if leave_out is not None else None
        others = len(self.candidates) - (skipped is not None)
        kept = others if first is None else min(first, others)
        # Compared: the positions before ``end`` but the one left out; the others (the
        # one left out, those past ``first``) count for no weight.
        end = kept + (skipped is not None and skipped < kept)
        dropped = [self.candidates[p][1] for p in range(end, len(self.candidates))]
        if skipped is not None and skipped < end:
            dropped.append(self.candidates[skipped][1])
        n = kept + 1  # the query is a document too
        base, totals = self._weights(n)

        def weight(word: str) -> float:
            count = self.counts[word] + (word in query) - sum(word in d for d in dropped)
            return math.log((1 + n) / (1 + count)) + 1

        shared: dict[int, float] = {}  # position -> weight of the words it shares
        changed: dict[int, float] = {}  # position -> its total's change for this query
        for word in query | frozenset(chain.from_iterable(dropped)):
            postings = self.having.get(word, ())
            now = weight(word)
            if word in query:
                for p in postings:
                    shared[p] = shared.get(p, 0.0) + now
            change = now - base.get(word, now)
            if change:
                for p in postings:
                    changed[p] = changed.get(p, 0.0) + change
        query_total = sum(map(weight, query))
        scored = []
        for position in sorted(shared):
            if position >= end or position == skipped:
                continue
            both = shared[position]
            union = query_total + totals[position] + changed.get(position, 0.0) - both
            score = round(both / union, 3)
            if score >= floor:
                scored.append((self.candidates[position][0], score))
        return sorted(scored, key=lambda s: -s[1])[:limit]


def most_similar(query: frozenset[str], candidates: Sequence[tuple[str, frozenset[str]]],
                 *, limit: int = 3, floor: float = 0.25) -> list[tuple[str, float]]:
    """The ``limit`` candidates most like ``query`` scoring at least ``floor``: the scores
    of ``similarity`` with every candidate and the query as the weights' documents."""
    return Corpus(candidates).most_similar(query, limit=limit, floor=floor)
