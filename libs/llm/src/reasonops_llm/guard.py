"""Privacy guard: secrets and personal data never leave for an external provider.

A prompt's request data is redacted value by value before it is encoded as JSON (a
value under a secret-named key is taken out whatever it looks like), then the whole
text is redacted again and checked. Text is normalised first (NFKC, invisible
characters removed) and cut to a bounded size; every pattern is linear in its input.

Fail-closed: if a pattern cannot be applied, or anything secret-looking survives the
redaction, the guard raises ``GuardBlocked`` and the call is not made.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from string import Template
from typing import Any

from .config import LlmSettings
from .detectors import (
    BUILTIN,
    CANDIDATE,
    DEFAULT_INTERNAL_DOMAINS,
    IPV4,
    IPV6,
    Detector,
    internal_hosts,
    is_secret_key,
    looks_random,
    normalise,
)
from .errors import GuardBlocked
from .prompts import RenderedPrompt, encode_input

MAX_TEXT_CHARS = 128 * 1024
"""Longer texts are cut: what a model needs of an alert fits well inside this."""

_PLACEHOLDER = re.compile(r"\[[a-z0-9_]+-\d+\]")

__all__ = ["MAX_TEXT_CHARS", "PrivacyGuard", "Redaction", "looks_random"]


@dataclass
class Redaction:
    """The safe text, and how many of each kind were taken out."""

    text: str
    kinds: Counter[str] = field(default_factory=Counter)


class _Names:
    """Numbered placeholders (``[email-1]``) shared by every text of one prompt, so the
    same value keeps the same name and a model can still refer to it."""

    def __init__(self) -> None:
        self.names: dict[tuple[str, str], str] = {}
        self.kinds: Counter[str] = Counter()

    def __call__(self, kind: str, value: str) -> str:
        key = (kind, value)
        if key not in self.names:
            self.names[key] = f"[{kind}-{sum(1 for k, _ in self.names if k == kind) + 1}]"
        self.kinds[kind] += 1
        return self.names[key]


class PrivacyGuard:
    def __init__(self, patterns: Mapping[str, str] | None = None, *, redact_ips: bool = True,
                 internal_domains: Iterable[str] = (), max_chars: int = MAX_TEXT_CHARS
                 ) -> None:
        detectors = [*BUILTIN, *((IPV4, IPV6) if redact_ips else ()),
                     internal_hosts((*DEFAULT_INTERNAL_DOMAINS, *internal_domains))]
        self.max_chars = max_chars
        try:
            detectors += [Detector(name, re.compile(pattern))
                          for name, pattern in (patterns or {}).items()]
            self._detectors = detectors
            self._error: str | None = None
        except re.error as exc:  # a bad configured pattern blocks every external call
            self._detectors = []
            self._error = f"redaction pattern does not compile: {exc}"

    @classmethod
    def configured(cls, settings: LlmSettings) -> PrivacyGuard:
        """The guard the settings describe: extra patterns, IPs, internal domains."""
        return cls(settings.patterns(), redact_ips=settings.redact_ips,
                   internal_domains=settings.domains())

    def redact_prompt(self, prompt: RenderedPrompt) -> tuple[RenderedPrompt, Counter[str]]:
        """The prompt as it may leave: its request data redacted before encoding, then
        every text redacted and checked; raise ``GuardBlocked``."""
        self._usable()
        names = _Names()
        if prompt.data is not None and prompt.template is not None:
            data = self._redact_data(prompt.data, names)
            user = Template(prompt.template).safe_substitute(input=encode_input(data))
        else:
            user = prompt.user
        system, user = (self._redact(text, names) for text in (prompt.system, user))
        return RenderedPrompt(system, user, prompt.version, prompt.hash), names.kinds

    def redact_all(self, texts: list[str]) -> tuple[list[str], Counter[str]]:
        """Redact several texts with one placeholder numbering; raise ``GuardBlocked``."""
        self._usable()
        names = _Names()
        return [self._redact(text, names) for text in texts], names.kinds

    def redact(self, text: str) -> Redaction:
        texts, kinds = self.redact_all([text])
        return Redaction(texts[0], kinds)

    def _usable(self) -> None:
        if self._error:
            raise GuardBlocked(self._error)

    def _redact_data(self, value: Any, names: _Names) -> Any:
        if isinstance(value, Mapping):
            out: dict[str, Any] = {}
            for key, item in value.items():
                safe_key = self._replace(self._cap(normalise(str(key))), names)
                if is_secret_key(str(key)) and not isinstance(item, Mapping | list | tuple):
                    out[safe_key] = item if item is None else names("password", str(item))
                else:
                    out[safe_key] = self._redact_data(item, names)
            return out
        if isinstance(value, list | tuple):
            return [self._redact_data(item, names) for item in value]
        if isinstance(value, str):
            return self._replace(self._cap(normalise(value)), names)
        return value

    def _redact(self, text: str, names: _Names) -> str:
        text = self._replace(self._cap(normalise(text)), names)
        self._verify(text)
        return text

    def _cap(self, text: str) -> str:
        if len(text) <= self.max_chars:
            return text
        return (text[:self.max_chars]
                + f"\n[{len(text) - self.max_chars} characters cut by the privacy guard]")

    def _replace(self, text: str, names: _Names) -> str:
        for detector in self._detectors:
            text = _substitute(detector, text, names)

        def entropy_replace(match: re.Match[str]) -> str:
            token = match.group(0)
            return names("high_entropy", token) if looks_random(token) else token

        return CANDIDATE.sub(entropy_replace, text)

    def _verify(self, text: str) -> None:
        """Fail closed: nothing a detector finds may remain except our own placeholders."""
        lowered = text.lower()
        for detector in self._detectors:
            for match in detector.finds(text, lowered):
                if not _PLACEHOLDER.fullmatch(match.group(detector.group).strip("\\\"'")):
                    raise GuardBlocked(f"{detector.kind} still present after redaction")
        for token in CANDIDATE.findall(_PLACEHOLDER.sub(" ", text)):
            if looks_random(token):
                raise GuardBlocked("a key-like token is still present after redaction")


def _substitute(detector: Detector, text: str, names: _Names) -> str:
    """``text`` with the value of each of ``detector``'s finds replaced by its name."""
    pieces: list[str] = []
    last = 0
    for match in detector.finds(text):
        start, end = match.span(detector.group)
        value = match.group(detector.group)
        if start < last or _PLACEHOLDER.fullmatch(value.strip("\\\"'")):
            continue
        quote = _quotes(value)
        pieces += [text[last:start], quote[0], names(detector.kind, value[len(quote[0]):
                   len(value) - len(quote[1])]), quote[1]]
        last = end
    return "".join(pieces) + text[last:] if pieces else text


def _quotes(value: str) -> tuple[str, str]:
    """The quotes around a quoted value, kept so JSON, YAML and env text stay well formed."""
    for quote in ('\\"', '"', "'"):
        if len(value) >= 2 * len(quote) and value.startswith(quote) and value.endswith(quote):
            return quote, quote
    return "", ""
