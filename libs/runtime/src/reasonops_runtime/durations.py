"""Durations as files and commands write them, read one way everywhere: ``90`` (seconds),
``"500ms"``, ``"90s"``, ``"2.5s"``, ``"15m"``, ``"4h"``, ``"1d"``, ``"1h30m"``."""

from __future__ import annotations

import re

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_PARTS = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
EXAMPLES = "90, 500ms, 90s, 15m, 4h, 1d or 1h30m"


def parse_duration(value: object, *, zero: bool = False) -> float:
    """Seconds, or ``ValueError`` saying what is wrong; 0 only when ``zero``."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        kind = "nothing" if value is None else type(value).__name__
        raise ValueError(f"expected a duration such as {EXAMPLES}, got {kind}")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        text = value.strip().lower()
        if _NUMBER.fullmatch(text):
            seconds = float(text)
        elif _PARTS.fullmatch(text):
            seconds = sum(float(n) * _UNITS[u] for n, u in _PART.findall(text))
        else:
            raise ValueError(f"{value!r} is not a duration (use seconds or e.g. {EXAMPLES})")
    if seconds < 0 or (seconds == 0 and not zero):
        raise ValueError("must be longer than zero")
    return seconds


def whole_seconds(value: object) -> int:
    """``parse_duration`` for settings kept in whole seconds (``"1500ms"`` is refused)."""
    seconds = parse_duration(value)
    if seconds != int(seconds):
        raise ValueError(f"{value!r}: give whole seconds (e.g. 90s, 15m)")
    return int(seconds)
