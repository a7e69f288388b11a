"""Privacy guard: secrets and personal data never leave for an external provider.

Fail-closed: if a pattern cannot be applied, or anything secret-looking survives the
redaction, the guard raises ``GuardBlocked`` and the call is not made.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from .errors import GuardBlocked

# (kind, pattern, group to replace or 0 for the whole match). Order matters: specific
# formats first, generic key=value and entropy last.
_BUILTIN: tuple[tuple[str, str, int], ...] = (
    ("private_key", r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----",
     0),
    ("jwt", r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}", 0),
    ("anthropic_key", r"\bsk-ant-[A-Za-z0-9_-]{20,}", 0),
    ("openai_key", r"\bsk-(?:proj-|live-|test-)?[A-Za-z0-9_-]{20,}", 0),
    ("aws_access_key", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", 0),
    ("github_token", r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})", 0),
    ("slack_token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}", 0),
    ("google_api_key", r"\bAIza[0-9A-Za-z_-]{35}\b", 0),
    ("stripe_key", r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}", 0),
    ("bearer_token", r"(?i)\b(?:bearer|token)\s+([A-Za-z0-9._~+/-]{16,}=*)", 1),
    ("url_password", r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@]+:([^\s@/]+)@", 1),
    ("password", r"(?i)\b(?:password|passwd|pwd|pass|secret|token|api[_-]?key|apikey|"
                 r"access[_-]?key|client[_-]?secret|auth)\b[\"']?[ \t]*[=:][ \t]*"
                 r"(\"[^\"]*\"|'[^']*'|[^\s,;&\"']+)", 1),
    ("email", r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b", 0),
)
_IPV4 = r"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b"
_IPV6 = r"\b(?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}\b"
_CANDIDATE = re.compile(r"[A-Za-z0-9+/=_.~-]{20,}")
_PLACEHOLDER = re.compile(r"\[[a-z0-9_]+-\d+\]")


def entropy(token: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(token)
    return -sum(n / len(token) * math.log2(n / len(token)) for n in counts.values())


def looks_random(token: str) -> bool:
    """A key-like token: long, mixed, and close to random. Hex needs less entropy
    (it has only 16 symbols), so 32+ hex digits count too."""
    core = token.strip("=.-_~")
    if len(core) < 20:
        return False
    # Names built from short parts (pod names, UUIDs, hostnames) are identifiers.
    if max(len(part) for part in re.split(r"[-.]", core)) < 16:
        return False
    if re.fullmatch(r"[0-9a-fA-F]+", core):
        return len(core) >= 32 and entropy(core) >= 3.0
    has_digit = any(c.isdigit() for c in core)
    has_alpha = any(c.isalpha() for c in core)
    return has_digit and has_alpha and entropy(core) >= 4.0


@dataclass
class Redaction:
    """The safe text, and how many of each kind were taken out."""

    text: str
    kinds: Counter[str] = field(default_factory=Counter)


class PrivacyGuard:
    """Redacts with numbered placeholders (``[email-1]``) so the same value keeps the
    same name across a prompt and a model can still refer to it."""

    def __init__(self, patterns: Mapping[str, str] | None = None, *, redact_ips: bool = True
                 ) -> None:
        rules = list(_BUILTIN)
        if redact_ips:
            rules += [("ipv4", _IPV4, 0), ("ipv6", _IPV6, 0)]
        try:
            rules += [(name, pattern, 0) for name, pattern in (patterns or {}).items()]
            self._rules = [(kind, re.compile(p), g) for kind, p, g in rules]
            self._error: str | None = None
        except re.error as exc:  # a bad configured pattern blocks every external call
            self._rules = []
            self._error = f"redaction pattern does not compile: {exc}"

    def redact_all(self, texts: list[str]) -> tuple[list[str], Counter[str]]:
        """Redact several texts with one placeholder numbering; raise ``GuardBlocked``."""
        if self._error:
            raise GuardBlocked(self._error)
        names: dict[tuple[str, str], str] = {}
        kinds: Counter[str] = Counter()
        out = []
        for text in texts:
            redaction = self._redact(text, names)
            kinds.update(redaction.kinds)
            out.append(redaction.text)
        return out, kinds

    def redact(self, text: str) -> Redaction:
        texts, kinds = self.redact_all([text])
        return Redaction(texts[0], kinds)

    def _redact(self, text: str, names: dict[tuple[str, str], str]) -> Redaction:
        kinds: Counter[str] = Counter()

        def name(kind: str, value: str) -> str:
            key = (kind, value)
            if key not in names:
                names[key] = f"[{kind}-{sum(1 for k, _ in names if k == kind) + 1}]"
            kinds[kind] += 1
            return names[key]

        for kind, pattern, group in self._rules:
            def replace(match: re.Match[str], kind: str = kind, group: int = group) -> str:
                value = match.group(group)
                if group == 0:
                    return name(kind, value)
                start, end = match.span(group)
                offset = match.start()
                whole = match.group(0)
                return whole[:start - offset] + name(kind, value) + whole[end - offset:]
            text = pattern.sub(replace, text)

        def entropy_replace(match: re.Match[str]) -> str:
            token = match.group(0)
            return name("high_entropy", token) if looks_random(token) else token

        text = _CANDIDATE.sub(entropy_replace, text)
        self._verify(text)
        return Redaction(text, kinds)

    def _verify(self, text: str) -> None:
        """Fail closed: nothing a rule matches may remain except our own placeholders."""
        for kind, pattern, group in self._rules:
            for match in pattern.finditer(text):
                if not _PLACEHOLDER.fullmatch(match.group(group).strip("\"'")):
                    raise GuardBlocked(f"{kind} still present after redaction")
        for token in _CANDIDATE.findall(_PLACEHOLDER.sub(" ", text)):
            if looks_random(token):
                raise GuardBlocked("a key-like token is still present after redaction")
