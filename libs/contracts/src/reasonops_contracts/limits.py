"""The longest value each field of an accepted event may have: what every service's
tables can hold, the same on SQLite (which ignores declared lengths) and PostgreSQL
(which refuses longer values). Ingest enforces them, so nothing it accepts (202) can
fail later in storage.

| Field | Limit | Over the limit |
| --- | --- | --- |
| alerts in one request | 1,000 | the request is refused (422, ``alerts``) |
| ``service`` | 256 | refused: an identifier the catalog and SLAs key on |
| ``fingerprint`` | 128 | a sender's is refused; a computed one is a digest |
| ``group_key`` (Alertmanager ``groupKey``) | 512 | replaced by its SHA-256 digest |
| ``name`` (alertname) | 256 | cut, ending in ``MARKER`` |
| ``summary`` | 1,024 | cut, ending in ``MARKER`` |
| ``resource`` | 512 | cut, ending in ``MARKER`` |
| ``description``, ``original`` | 65,536 | cut, ending in ``MARKER`` |
| label and annotation names | 256 | cut, ending in ``MARKER`` |
| label and annotation values | 4,096 | cut, ending in ``MARKER`` |
| ``source``, ``generator_url`` | 2,048 | cut, ending in ``MARKER`` |

NUL characters (which PostgreSQL's text cannot hold) are removed from every string.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

ALERTS_PER_REQUEST = 1000
SERVICE = 256
FINGERPRINT = 128
GROUP_KEY = 512
NAME = 256
SUMMARY = 1024
RESOURCE = 512
TEXT = 65536
LABEL_NAME = 256
LABEL_VALUE = 4096
URL = 2048

MARKER = "…[cut]"
DIGEST_PREFIX = "sha256:"


def clean(text: str) -> str:
    """``text`` without NUL characters."""
    return text.replace("\x00", "") if "\x00" in text else text


def clip(text: str, limit: int) -> str:
    """``text`` without NULs, cut to ``limit`` characters with ``MARKER`` at the end."""
    text = clean(text)
    return text if len(text) <= limit else text[:limit - len(MARKER)] + MARKER


def key(text: str, limit: int) -> str:
    """An identifier that fits: ``text`` itself, or its digest when it is longer (two
    senders' long keys stay apart, and the same key always gives the same digest)."""
    text = clean(text)
    if len(text) <= limit:
        return text
    return DIGEST_PREFIX + hashlib.sha256(text.encode()).hexdigest()


def clip_map(values: Mapping[str, Any]) -> dict[str, Any]:
    """Labels or annotations with names and values within their limits."""
    for k, v in values.items():  # nearly always all within: checked without copying
        if (type(k) is not str or len(k) > LABEL_NAME or "\x00" in k
                or (type(v) is str and (len(v) > LABEL_VALUE or "\x00" in v))):
            break
    else:
        return dict(values)
    return {clip(str(k), LABEL_NAME): clip(v, LABEL_VALUE) if isinstance(v, str) else v
            for k, v in values.items()}
