"""What the privacy guard looks for: patterns, checksums, secret-named keys, entropy. Pure.

Every pattern runs in time linear in its input: a match may begin only where a run of
the characters it consumes begins (a look-behind), and runs are consumed possessively,
so no input makes the engine retry a run from each of its characters.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

SECRET_KEY = re.compile(
    r"(?i)password|passwd|passphrase|passcode|secret|token|api[_-]?key|apikey|"
    r"access[_-]?key|private[_-]?key|credential|authorization|"
    r"(?:^|[_.-])(?:pass|pwd|pin)$")
"""A key, label, header or element name whose value is a secret, whatever the value."""

DEFAULT_INTERNAL_DOMAINS = ("internal", "corp", "lan", "intranet", "local", "home.arpa")
"""Names under these domains are internal hosts; more come from configuration."""

_INVISIBLE = re.compile(r"[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")


def normalise(text: str) -> str:
    """Compatibility forms folded (full-width letters, ligatures) and invisible characters
    removed, so a secret spelled to slip past a pattern is seen as what it reads as."""
    return _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))


_REFERENCE = re.compile(r"(?i)(?:name|ref|file|path)$")
"""A key that names where a secret is (``secretName``, ``secretKeyRef``,
``password_file``), not the secret itself."""


def is_secret_key(name: str) -> bool:
    name = normalise(name)
    return SECRET_KEY.search(name) is not None and _REFERENCE.search(name) is None


def luhn(value: str) -> bool:
    """A payment card number's check digit holds."""
    digits = [int(c) for c in value if c.isdigit()]
    if not 13 <= len(digits) <= 19:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban(value: str) -> bool:
    """An IBAN's mod-97 check holds."""
    compact = value.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34:
        return False
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def phone_digits(value: str) -> bool:
    return 7 <= sum(c.isdigit() for c in value) <= 15


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


@dataclass(frozen=True)
class Detector:
    """One kind of secret: ``group`` of each match is the value taken out, when
    ``accept`` (a checksum, a key name) agrees that the match is one."""

    kind: str
    pattern: re.Pattern[str]
    group: int = 0
    accept: Callable[[re.Match[str]], bool] | None = None
    hints: tuple[str, ...] = ()
    """Lower-case strings one of which every match contains: a text with none of them
    is skipped without running the pattern (most texts hold no key of most kinds)."""

    def finds(self, text: str, lowered: str | None = None) -> Iterator[re.Match[str]]:
        """Matches in ``text`` (``lowered``: the same text in lower case, if at hand)."""
        if self.hints:
            folded = text.lower() if lowered is None else lowered
            if not any(hint in folded for hint in self.hints):
                return
        for match in self.pattern.finditer(text):
            if self.accept is None or self.accept(match):
                yield match


def _d(kind: str, pattern: str, group: int = 0,
       accept: Callable[[re.Match[str]], bool] | None = None, *hints: str) -> Detector:
    return Detector(kind, re.compile(pattern), group, accept, hints)


_QUOTED_OR_BARE = r"""(\\?"[^"\n]*?\\?"|'[^'\n]*'|[^\s,;&"'<>\\]+)"""

BUILTIN: tuple[Detector, ...] = (
    # Specific formats first; an unterminated private key is cut to the end of the text.
    _d("private_key", r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?"
                      r"(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)", 0, None, "private key"),
    _d("nkey_seed", r"\bS[UOANCPX][A-Z2-7]{56}\b"),
    _d("jwt", r"\beyJ[A-Za-z0-9_-]{8,}+\.eyJ[A-Za-z0-9_-]{8,}+\.[A-Za-z0-9_-]{8,}+", 0, None,
       "eyj"),
    _d("anthropic_key", r"\bsk-ant-[A-Za-z0-9_-]{20,}+", 0, None, "sk-ant-"),
    _d("openai_key", r"\bsk-(?:proj-|live-|test-)?[A-Za-z0-9_-]{20,}+", 0, None, "sk-"),
    _d("aws_access_key", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", 0, None, "akia", "asia"),
    _d("github_token", r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}+|github_pat_[A-Za-z0-9_]{30,}+)", 0,
       None, "gh"),
    _d("gitlab_token", r"\bglpat-[A-Za-z0-9_-]{20,}+", 0, None, "glpat-"),
    _d("slack_token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}+", 0, None, "xox"),
    _d("slack_webhook", r"https://hooks\.slack\.com/services/[A-Za-z0-9/_-]++", 0, None,
       "hooks.slack.com"),
    _d("google_api_key", r"\bAIza[0-9A-Za-z_-]{35}\b", 0, None, "aiza"),
    _d("stripe_key", r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}+", 0, None, "k_live_", "k_test_"),
    _d("npm_token", r"\bnpm_[A-Za-z0-9]{36}\b", 0, None, "npm_"),
    _d("sendgrid_key", r"\bSG\.[A-Za-z0-9_-]{16,}+\.[A-Za-z0-9_-]{16,}+", 0, None, "sg."),
    _d("azure_storage_key", r"(?i)\bAccountKey=([A-Za-z0-9+/=]{40,}+)", 1, None, "accountkey="),
    _d("bearer_token", r"(?i)\b(?:bearer|basic|token)[ \t]++([A-Za-z0-9._~+/-]{16,}+=*+)", 1, None,
       "bearer", "basic", "token"),
    _d("url_password",
       r"(?<![a-zA-Z0-9+.-])[a-zA-Z][a-zA-Z0-9+.-]*+://[^\s:/@]++:([^\s@/]++)@", 1, None,
       "://"),
    # A value under a secret-named key: JSON, YAML, env files, headers, flags.
    _d("password", r"(?<![\w.-])([\w.-]++)(?:\\?[\"'])?[ \t]*+[=:][ \t]*+" + _QUOTED_OR_BARE,
       2, lambda m: is_secret_key(m.group(1))),
    _d("password", r"<([\w.:-]++)(?:\s[^<>]*+)?>([^<]{1,4096}+)</\1>", 2,
       lambda m: is_secret_key(m.group(1)), "</"),
    _d("password", r"(?i)\b(?:password|passphrase|passcode|pin)(?:\s++for\s++[\w.@-]++)?"
                   r"\s++(?:is|was|will be|set to|changed to)[:\s]++[\"']?([^\s\"',;]++)", 1,
       None, "pass", "pin"),
    _d("email", r"(?<![\w.%+-])[\w.%+-]++@(?:[A-Za-z0-9-]++\.)+[A-Za-z]{2,}+\b", 0, None, "@"),
    _d("payment_card", r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])", 0,
       lambda m: luhn(m.group(0))),
    _d("iban", r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b", 0,
       lambda m: iban(m.group(0))),
    _d("phone", r"(?<![\w+])\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,5}(?!\w)", 0,
       lambda m: phone_digits(m.group(0)), "+"),
    _d("phone", r"(?<![\w.(-])(?:\(\d{3}\) ?|\d{3}[.-])\d{3}[.-]\d{4}(?![\w.-])"),
)

IPV4 = _d("ipv4", r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)"
                  r"(?![\d.]*\d)")
IPV6 = _d("ipv6", r"(?<![\w:])(?:(?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}|"
                  r"(?:[0-9a-fA-F]{1,4}:){1,7}:(?:[0-9a-fA-F]{1,4}(?::[0-9a-fA-F]{1,4}){0,6})?|"
                  r"::[0-9a-fA-F]{1,4}(?::[0-9a-fA-F]{1,4}){0,6})(?![\w:])")


def internal_hosts(domains: Iterable[str]) -> Detector:
    """Host names under ``domains`` (``db-1.corp``, ``api.payments.svc.cluster.local``)."""
    domains = tuple(domains)
    names = "|".join(re.escape(d.strip(".").lower()) for d in sorted(set(domains), key=len,
                                                                     reverse=True))
    return _d("hostname", r"(?i)(?<![\w.-])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
                          rf"(?:{names})(?![\w-]|\.\w)", 0, None,
              *(f".{d.strip('.').lower()}" for d in domains))


CANDIDATE = re.compile(r"[A-Za-z0-9+/=_.~-]{20,}+")
"""Tokens long enough to be keys, tested by ``looks_random``."""
