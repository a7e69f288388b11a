"""Tuning from the dev split only: words the dev cases' labels and texts share within one
category, written as ``vocabularies/learned.yaml``; and the leave-one-source-out report,
which learns again without each source tool's cases and scores that tool's cases.

Only cases whose ``split`` is ``dev`` are ever learned from; any other case handed in is
counted as skipped and not looked at.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, TypeVar

import yaml

from reasonops_contracts.agents import Category, TriageRequested

from .classify import classify
from .signals import NOT_READ_LABELS
from .vocabulary import LEARNED, Document, Vocabulary, build, read, shipped, tokens

MIN_CASES = 2
"""A word is learned when at least this many dev cases carry it..."""
PURITY = 0.8
"""...and at least this share of them have the same category."""
LEARNED_WEIGHT = 1.0

_STOP = frozenset({
    "the", "and", "for", "from", "with", "than", "above", "below", "over", "under", "has",
    "have", "been", "not", "are", "was", "were", "this", "that", "after", "before", "into",
    "all", "any", "one", "two", "per", "its", "last", "more", "less", "high", "low", "min",
    "der", "die", "das", "und", "auf", "von", "mit", "ist", "les", "des", "une", "sur", "est",
    "del", "los", "las", "una", "por", "con", "para", "que", "http", "https", "com", "www",
    "example", "prod", "production",
})
_STOPPED = frozenset(w for word in _STOP for w in tokens(word))


class Labelled(Protocol):
    """What tuning needs of a case (the evaluation's ``Case`` has it)."""

    id: str | None
    split: str | None
    title: str
    description: str
    labels: dict[str, str]
    source_tool: str
    expected_category: Category

    def request(self, n: int) -> TriageRequested: ...


C = TypeVar("C", bound=Labelled)


def words_of(case: Labelled) -> frozenset[str]:
    """The words a case's alert name, other describing labels, title and text carry."""
    texts = [case.title, case.description,
             *(v for k, v in case.labels.items() if k.lower() not in NOT_READ_LABELS
               or k == "alertname")]
    return frozenset(w for text in texts for w in tokens(str(text))
                     if len(w) > 2 and not w.isdigit() and w not in _STOPPED)


def dev_only(cases: Iterable[C]) -> tuple[list[C], int]:
    """The dev cases, and how many others were handed in (and left unread)."""
    dev, skipped = [], 0
    for case in cases:
        if case.split == "dev":
            dev.append(case)
        else:
            skipped += 1
    return dev, skipped


def _known(base: Vocabulary) -> frozenset[str]:
    return frozenset(t.words[0] for terms in base.starts.values() for t in terms
                     if len(t.words) == 1)


def learn(cases: Iterable[Labelled], base: Vocabulary,
          words: Mapping[int, frozenset[str]] | None = None) -> dict[Category, list[str]]:
    """Category -> words to add, learned from the dev cases among ``cases``."""
    dev, _ = dev_only(cases)
    known = _known(base)
    seen: dict[str, Counter[Category]] = defaultdict(Counter)
    for case in dev:
        for word in (words or {}).get(id(case)) or words_of(case):
            if word not in known:
                seen[word][case.expected_category] += 1
    learned: dict[Category, list[str]] = defaultdict(list)
    for word, counts in sorted(seen.items()):
        category, n = counts.most_common(1)[0]
        if n >= MIN_CASES and n / sum(counts.values()) >= PURITY:
            learned[category].append(word)
    return dict(learned)


def document(learned: Mapping[Category, list[str]], source: str) -> dict[str, Any]:
    return {"name": "learned", "sources": [source], "weight": LEARNED_WEIGHT,
            "terms": {c: sorted(ws) for c, ws in sorted(learned.items())}}


def dump(doc: Mapping[str, Any]) -> str:
    header = ("# Written by `reasonops agents tune` from the dev split; do not edit by hand:\n"
              "# run `make tune` after changing the dev cases.\n")
    return header + yaml.safe_dump(dict(doc), allow_unicode=True, sort_keys=False, width=100)


def base_documents() -> list[Document]:
    """The hand-written vocabularies: everything shipped but the learned file."""
    return [read(name, text) for name, text in shipped(learned=False)]


@dataclass
class SourceFigures:
    correct: int = 0
    cases: int = 0
    misses: list[str] = field(default_factory=list)


@dataclass
class LeaveOneOut:
    tools: dict[str, SourceFigures]
    dev_cases: int
    skipped: int

    @property
    def correct(self) -> int:
        return sum(f.correct for f in self.tools.values())

    @property
    def cases(self) -> int:
        return sum(f.cases for f in self.tools.values())

    def as_dict(self) -> dict[str, object]:
        return {"accuracy": self.correct / self.cases if self.cases else None,
                "correct": self.correct, "cases": self.cases, "tools": len(self.tools),
                "tuned_on_dev_cases": self.dev_cases,
                "by_tool": {tool: {"correct": f.correct, "cases": f.cases}
                            for tool, f in sorted(self.tools.items())}}


def leave_one_source_out(cases: Sequence[Labelled]) -> LeaveOneOut:
    """For each source tool: learn from the dev cases of every other tool, then score
    all of this tool's cases (dev and test) with the hand-written vocabularies plus that,
    as if the tool itself were unknown (its name counts for nothing)."""
    base_docs = base_documents()
    base = build(base_docs)
    dev, skipped = dev_only(cases)
    words = {id(case): words_of(case) for case in dev}
    report = LeaveOneOut(tools={}, dev_cases=len(dev), skipped=skipped)
    for tool in sorted({c.source_tool for c in cases}):
        learned = learn([c for c in dev if c.source_tool != tool], base, words)
        vocabulary = build([*base_docs, (LEARNED, document(learned, f"all tools but {tool}"))])
        vocabulary = replace(vocabulary, tools={name: category for name, category
                                                in vocabulary.tools.items() if name != tool})
        figures = report.tools.setdefault(tool, SourceFigures())
        for n, case in enumerate((c for c in cases if c.source_tool == tool), start=1):
            decided = classify(case.request(n), vocabulary).category
            figures.cases += 1
            figures.correct += decided == case.expected_category
            if decided != case.expected_category:
                figures.misses.append(f"{case.id or case.title!r}: expected "
                                      f"{case.expected_category}, got {decided}")
    return report


def render_leave_one_out(report: LeaveOneOut, *, worst: int = 10) -> str:
    share = report.correct / report.cases if report.cases else 0.0
    lines = [f"leave one source out: {share:.1%} ({report.correct}/{report.cases}) over "
             f"{len(report.tools)} source tools, each scored as an unknown tool with words "
             f"learned from the {report.dev_cases} dev cases of the other tools"]
    ranked = sorted(report.tools.items(), key=lambda kv: (kv[1].correct / kv[1].cases, kv[0]))
    weakest = [(tool, f) for tool, f in ranked if f.correct < f.cases][:worst]
    if weakest:
        lines.append("weakest tools:")
        lines += [f"  {tool:<24} {f.correct / f.cases:6.1%} ({f.correct}/{f.cases})"
                  for tool, f in weakest]
    return "\n".join(lines)
