"""Label matchers and expressions: which alerts a rule or a silence is about.

One matcher is one string, Prometheus style, over the alert's labels plus the fields
``alertname``, ``severity``, ``service``, ``resource`` and ``fingerprint``::

    service=checkout          equal
    severity!=info            not equal (a missing label is "")
    alertname=~Disk.*         regular expression, anchored
    instance!~test-.*         not matching
    severity in (critical, error)
    env not in (dev, test)
    cluster                   present and not empty
    !maintenance              absent or empty
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

Fields = Mapping[str, str]

_NAME = r"[A-Za-z_][A-Za-z0-9_.\-]*"
_OP = re.compile(rf"^\s*({_NAME})\s*(=~|!~|!=|=)\s*(.*?)\s*$")
_IN = re.compile(rf"^\s*({_NAME})\s+(not\s+in|in)\s*\((.*)\)\s*$")
_EXISTS = re.compile(rf"^\s*(!?)\s*({_NAME})\s*$")


@dataclass(frozen=True)
class Matcher:
    text: str
    test: Callable[[Fields], bool]

    def __call__(self, fields: Fields) -> bool:
        return self.test(fields)


def parse_matcher(text: str) -> Matcher:
    """Compile one matcher; ``ValueError`` says what is wrong with it."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("a matcher must be a non-empty string such as service=checkout")
    if m := _IN.match(text):
        name, negated = m.group(1), m.group(2).startswith("not")
        values = frozenset(v.strip().strip("'\"") for v in m.group(3).split(",") if v.strip())
        if not values:
            raise ValueError(f"{text!r}: the list in (...) is empty")
        return Matcher(text, lambda f: (f.get(name, "") in values) != negated)
    if m := _OP.match(text):
        name, op, raw = m.group(1), m.group(2), m.group(3).strip("'\"")
        if op in ("=~", "!~"):
            try:
                pattern = re.compile(raw)
            except re.error as exc:
                raise ValueError(f"{text!r}: bad regular expression: {exc}") from None
            positive = op == "=~"
            return Matcher(text, lambda f: (pattern.fullmatch(f.get(name, "")) is not None)
                           == positive)
        if op == "=":
            return Matcher(text, lambda f: f.get(name, "") == raw)
        return Matcher(text, lambda f: f.get(name, "") != raw)
    if m := _EXISTS.match(text):
        negated, name = m.group(1) == "!", m.group(2)
        return Matcher(text, lambda f: bool(f.get(name)) != negated)
    raise ValueError(f"{text!r} is not a matcher (use name=value, name!=value, name=~regex, "
                     "name!~regex, name in (a, b), name or !name)")


def matches_all(matchers: tuple[Matcher, ...], fields: Fields) -> bool:
    return all(m(fields) for m in matchers)
