"""Signed, expiring links in a page: whoever holds one may acknowledge, resolve or
escalate that incident as the person paged, once.

A link is ``<payload>.<signature>``: the payload (incident, person, expiry, a nonce) in
base64url, the signature an HMAC-SHA256 of it under a key derived from the service's own
identity seed, so every replica signs and checks the same way and no other secret has to
be kept (a service without an identity keeps a random key in its data directory).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

LIFETIME = timedelta(hours=12)
ACTIONS = ("acknowledge", "resolve", "escalate")


class LinkRefused(ValueError):
    """Not a link this service signed, or no longer valid."""


@dataclass(frozen=True)
class Link:
    incident_id: str
    user: str
    expires_at: datetime
    nonce: str


def key_from(seed_file: Path | None, data_dir: Path) -> bytes:
    """The signing key: derived from the identity seed, else kept in ``data_dir``."""
    if seed_file is not None and seed_file.exists():
        return hashlib.sha256(b"reasonops-oncall-links\0" + seed_file.read_bytes().strip()
                              ).digest()
    path = data_dir / "oncall-links.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
    return bytes.fromhex(path.read_text().strip())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(key: bytes, incident_id: str, user: str, now: datetime) -> str:
    payload = _b64(json.dumps({"i": incident_id, "u": user,
                               "e": int((now + LIFETIME).timestamp()),
                               "n": secrets.token_urlsafe(9)},
                              separators=(",", ":")).encode())
    return f"{payload}.{_b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())}"


def verify(key: bytes, token: str, now: datetime) -> Link:
    payload, _, signature = token.partition(".")
    expected = _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())
    if not payload or not hmac.compare_digest(signature, expected):
        raise LinkRefused("not a link ReasonOps sent")
    try:
        found = json.loads(_unb64(payload))
        link = Link(str(found["i"]), str(found["u"]),
                    datetime.fromtimestamp(int(found["e"]), UTC), str(found["n"]))
    except (ValueError, KeyError, TypeError):
        raise LinkRefused("not a link ReasonOps sent") from None
    if now >= link.expires_at:
        raise LinkRefused(f"the link expired at {link.expires_at:%Y-%m-%d %H:%M} UTC")
    return link
