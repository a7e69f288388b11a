"""The rules' knowledge as data: vocabularies of what monitoring tools call the things
they watch, one YAML file per family of vendors with the documentation it was taken
from, and ``learned.yaml``, which ``reasonops agents tune`` derives from the dev split.

A file holds ``terms`` (category -> a list of terms, or of ``term: weight``; the
file's ``weight`` when none is given), ``tools`` (category -> names of the tools whose
alerts are about it), ``ids`` (category -> numeric identifiers such as Windows event
IDs, counted in an ``id_labels`` label or after one of ``id_words`` in text) and
``label_names`` (category -> label names whose mere presence points at it).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

import yaml

from reasonops_contracts.agents import Category

CATEGORIES: tuple[Category, ...] = (
    "network", "database", "application", "security", "infrastructure", "storage",
)
REMEMBERED = 8192
"""How many texts' words are kept (the least recently used dropped first) and how many
word sequences' terms (all dropped when full): a few megabytes at most."""
LEARNED = "learned.yaml"
"""The file ``reasonops agents tune`` writes; every other file is written by hand."""

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NON_WORD = re.compile(r"[^a-z0-9]+")


def _stem(token: str) -> str:
    # Enough to make "disks", "errors", "packets" and "https" match their singular.
    return token[:-1] if len(token) > 3 and token.endswith("s") and not token.endswith("ss") \
        else token


def fold(text: str) -> str:
    """Accents off, ``ß`` as ``ss``: "Température" and "Temperature" read alike."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text.replace("ß", "ss"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@functools.lru_cache(maxsize=REMEMBERED)
def tokens(text: str) -> tuple[str, ...]:
    """Split camelCase and punctuation, fold accents, lower-case, stem:
    ``OOMKilled`` -> (oom, killed), ``Réplica`` -> (replica,). Remembered: the same
    label names, values and the rules' own phrases come back at every decision."""
    spaced = _CAMEL.sub(" ", fold(text)).lower()
    return tuple(_stem(t) for t in _NON_WORD.split(spaced) if t)


class VocabularyError(ValueError):
    pass


@dataclass(frozen=True)
class Term:
    category: Category
    words: tuple[str, ...]
    weight: float
    term: str
    """As written in its file."""


@dataclass(frozen=True)
class Vocabulary:
    starts: Mapping[str, tuple[Term, ...]]
    """First word -> the terms starting with it, longest first."""
    tools: Mapping[str, Category]
    tool_weight: float
    ids: Mapping[str, tuple[tuple[Category, float], ...]]
    id_labels: frozenset[str]
    id_words: frozenset[str]
    label_names: Mapping[Category, frozenset[str]]
    sources: Mapping[str, tuple[str, ...]]
    """File name -> where its contents come from."""
    size: int = field(default=0)
    """How many terms."""
    _found: dict[tuple[str, ...], tuple[Term, ...]] = field(
        default_factory=dict, compare=False, repr=False)
    """``found``'s answers: label values and alert names come back at every decision."""

    def found(self, words: tuple[str, ...]) -> tuple[Term, ...]:
        """``match``'s terms, remembered for the last few thousand ``words``."""
        hit = self._found.get(words)
        if hit is None:
            if len(self._found) >= REMEMBERED:
                self._found.clear()
            hit = self._found[words] = tuple(self.match(words))
        return hit

    def match(self, words: tuple[str, ...]) -> Iterator[Term]:
        """Every term found in ``words``, longest first at each place; words a term took
        are not matched again by a shorter one ("KubeNodeNotReady" is not also "node")."""
        i = 0
        while i < len(words):
            taken = 0
            for term in self.starts.get(words[i], ()):
                n = len(term.words)
                if taken and n < taken:
                    break
                if words[i:i + n] == term.words:
                    taken = n
                    yield term
            i += taken or 1

    def tool(self, name: str) -> Category | None:
        return self.tools.get(name.strip().lower())


def _category(value: object, where: str) -> Category:
    if value not in CATEGORIES:
        raise VocabularyError(f"{where}: {value!r} is not a category "
                              f"({', '.join(CATEGORIES)})")
    return value


def _terms(entries: object, default: float, where: str) -> Iterator[tuple[str, float]]:
    items: Iterable[Any] = entries.items() if isinstance(entries, Mapping) else (
        entries if isinstance(entries, list) else [])
    if not isinstance(entries, list | Mapping):
        raise VocabularyError(f"{where}: expected a list or a mapping of terms")
    for item in items:
        if isinstance(item, tuple):
            term, weight = item
        elif isinstance(item, Mapping) and len(item) == 1:
            [(term, weight)] = item.items()
        else:
            term, weight = item, default
        if not isinstance(term, str | int) or not isinstance(weight, int | float) \
                or weight <= 0:
            raise VocabularyError(f"{where}: {item!r}: a term and a positive weight")
        yield str(term), float(weight)


@dataclass
class _Builder:
    terms: dict[tuple[Category, tuple[str, ...]], Term] = field(default_factory=dict)
    tools: dict[str, Category] = field(default_factory=dict)
    ids: dict[str, dict[Category, float]] = field(default_factory=dict)
    id_labels: set[str] = field(default_factory=set)
    id_words: set[str] = field(default_factory=set)
    label_names: dict[Category, set[str]] = field(default_factory=dict)
    sources: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def add(self, name: str, doc: Mapping[str, Any]) -> None:
        default = float(doc.get("weight", 2.0))
        self.sources[name] = tuple(str(s) for s in doc.get("sources") or ())
        if not self.sources[name]:
            raise VocabularyError(f"{name}: sources: say where the vocabulary comes from")
        for category, entries in (doc.get("terms") or {}).items():
            where = f"{name}: terms.{category}"
            cat = _category(category, where)
            for term, weight in _terms(entries, default, where):
                words = tokens(term)
                if not words:
                    raise VocabularyError(f"{where}: {term!r} has no words")
                known = self.terms.get((cat, words))
                if known is None or known.weight < weight:
                    self.terms[(cat, words)] = Term(cat, words, weight, term)
        for category, names in (doc.get("tools") or {}).items():
            cat = _category(category, f"{name}: tools.{category}")
            self.tools.update({str(n).strip().lower(): cat for n in names})
        for category, numbers in (doc.get("ids") or {}).items():
            cat = _category(category, f"{name}: ids.{category}")
            for number in numbers:
                self.ids.setdefault(str(number), {})[cat] = default
        self.id_labels.update(str(n) for n in doc.get("id_labels") or ())
        self.id_words.update(" ".join(tokens(str(w))) for w in doc.get("id_words") or ())
        for category, names in (doc.get("label_names") or {}).items():
            cat = _category(category, f"{name}: label_names.{category}")
            self.label_names.setdefault(cat, set()).update(str(n) for n in names)

    def build(self, tool_weight: float) -> Vocabulary:
        starts: dict[str, list[Term]] = {}
        for term in self.terms.values():
            starts.setdefault(term.words[0], []).append(term)
        return Vocabulary(
            starts={w: tuple(sorted(ts, key=lambda t: -len(t.words))) for w, ts in
                    starts.items()},
            tools=dict(self.tools), tool_weight=tool_weight,
            ids={k: tuple(v.items()) for k, v in self.ids.items()},
            id_labels=frozenset(self.id_labels), id_words=frozenset(self.id_words),
            label_names={c: frozenset(v) for c, v in self.label_names.items()},
            sources=dict(self.sources), size=len(self.terms))


Document = tuple[str, Mapping[str, Any]]
"""A vocabulary file: its name and its contents."""


def read(name: str, text: str) -> Document:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise VocabularyError(f"{name}: not YAML: {exc}") from None
    if not isinstance(doc, Mapping):
        raise VocabularyError(f"{name}: expected a mapping at the top")
    return name, doc


def build(documents: Iterable[Document], *, tool_weight: float = 2.0) -> Vocabulary:
    """One vocabulary from read files; an error names file and field."""
    builder = _Builder()
    for name, doc in documents:
        builder.add(name, doc)
    return builder.build(tool_weight)


def parse(documents: Iterable[tuple[str, str]], *, tool_weight: float = 2.0) -> Vocabulary:
    """One vocabulary from (file name, YAML text) pairs."""
    return build((read(name, text) for name, text in documents), tool_weight=tool_weight)


def shipped(*, learned: bool = True) -> list[tuple[str, str]]:
    """The vocabulary files in this package (with or without the learned one)."""
    folder = files(__package__ or "reasonops_agent_triage").joinpath("vocabularies")
    return sorted((entry.name, entry.read_text(encoding="utf-8")) for entry in folder.iterdir()
                  if entry.name.endswith(".yaml") and (learned or entry.name != LEARNED))


def load() -> Vocabulary:
    """The shipped vocabulary."""
    return parse(shipped())
