"""Past resolved incidents like a new one: read once for the decisions that follow,
their words indexed, compared by embeddings where configured, by rarity-weighted word
overlap otherwise."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from reasonops_llm import ProviderError
from reasonops_llm.embeddings import Embedder, cosine
from reasonops_runtime.store import Session

from . import store
from .domain import PastIncident
from .similarity import Corpus, words

log = logging.getLogger(__name__)

EMBEDDED_CANDIDATES = 200
WORDS_KEPT = 20_000
EMBEDDING_FLOOR = 0.6
COMPARED = 2000
"""The latest resolved incidents a new one is compared with."""
KEPT_SECONDS = 5.0
"""How long the past incidents read for one decision serve the next ones: in a storm
hundreds of decisions a second share one read. A resolution seen here drops them at
once; one another replica saw is seen within this time."""


@dataclass(frozen=True)
class Past:
    """The latest resolved incidents, by id, and their words indexed."""

    rows: list[Any]
    by_id: dict[str, Any]
    corpus: Corpus


def text_of(row: Any) -> str:
    """What an incident is compared on: its title, service and alert name."""
    name = row.alertname if hasattr(row, "alertname") else row.labels.get("alertname")
    return f"{row.title} {row.service or ''} {name or ''}"


class PastIncidents:
    def __init__(self, embedder: Embedder | None = None) -> None:
        self.embedder = embedder
        self._known_words: dict[str, tuple[str, frozenset[str]]] = {}
        self._read: tuple[float, Past] | None = None

    def forget(self) -> None:
        """Incidents were resolved: new past incidents to compare with."""
        self._read = None

    async def read(self, session: Session) -> Past:
        """The latest resolved incidents and their words, read again after ``forget`` or
        ``KEPT_SECONDS``; one more than compared, so that leaving out the incident asking
        still leaves ``COMPARED``."""
        now = time.monotonic()
        if self._read is None or now - self._read[0] > KEPT_SECONDS:
            rows = await store.past_resolved(session, COMPARED + 1)
            # Their words are worked out once, kept by id and title (neither an
            # incident's title, service nor alert name changes once it opened).
            known = self._known_words
            candidates = []
            for p in rows:
                found = known.get(p.incident_id)
                if found is None or found[0] != p.title:
                    if len(known) >= WORDS_KEPT:
                        known.clear()
                    found = known[p.incident_id] = (p.title, words(text_of(p)))
                candidates.append((p.incident_id, found[1]))
            self._read = (now, Past(rows, {p.incident_id: p for p in rows},
                                    Corpus(candidates)))
        return self._read[1]

    async def like(self, row: Any, past: Past) -> list[PastIncident]:
        """Past resolved incidents like ``row`` (itself left out)."""
        by_id = past.by_id
        shortlist = [p for p in past.rows if p.incident_id != row.incident_id
                     ][:EMBEDDED_CANDIDATES] if self.embedder is not None else []
        if self.embedder is not None and shortlist:
            try:
                vectors = await self.embedder.embed([text_of(row),
                                                     *(text_of(p) for p in shortlist)])
            except ProviderError as exc:
                log.warning("embeddings unavailable; using lexical similarity",
                            extra={"error": str(exc)})
            else:
                scored = sorted(((p.incident_id, round(cosine(vectors[0], v), 3))
                                 for p, v in zip(shortlist, vectors[1:], strict=True)),
                                key=lambda s: -s[1])
                method = f"embeddings {self.embedder.name}:{self.embedder.model}"
                return [PastIncident(i, by_id[i].title, by_id[i].resolution, score, method)
                        for i, score in scored[:3] if score >= EMBEDDING_FLOOR]
        return [PastIncident(i, by_id[i].title, by_id[i].resolution, score)
                for i, score in past.corpus.most_similar(words(text_of(row)),
                                                         leave_out=row.incident_id,
                                                         first=COMPARED)]
