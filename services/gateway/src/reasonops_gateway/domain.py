"""API tokens and rate limits, pure: no I/O, time passed in.

A token reads ``ro_<id>_<secret>``: the id finds its row, the secret proves it (only
its SHA-256 is stored, compared in constant time). A token acts for one person and may
be narrowed to some of that person's roles.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from reasonops_contracts.gateway import ApiTokenView

PREFIX = "ro_"
_ALPHABET = string.ascii_lowercase + string.digits
_SHAPE = re.compile(r"^ro_([a-z0-9]{12})_([A-Za-z0-9_-]{32,64})$")


@dataclass(frozen=True)
class Token:
    token_id: str
    secret_hash: str
    name: str
    principal: str
    roles: tuple[str, ...]
    created_by: str
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    def problem(self, now: datetime) -> str | None:
        """Why this token cannot be used at ``now``, or None."""
        if self.revoked_at is not None:
            return f"token {self.token_id} was revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return f"token {self.token_id} expired at {self.expires_at.isoformat()}"
        return None

    def view(self) -> ApiTokenView:
        return ApiTokenView(token_id=self.token_id, name=self.name, principal=self.principal,
                            roles=list(self.roles), created_by=self.created_by,
                            created_at=self.created_at, expires_at=self.expires_at,
                            revoked_at=self.revoked_at, last_used_at=self.last_used_at)


def new_secret() -> tuple[str, str]:
    """A fresh (token id, bearer string)."""
    ident = "".join(secrets.choice(_ALPHABET) for _ in range(12))
    return f"tok_{ident}", f"{PREFIX}{ident}_{secrets.token_urlsafe(32)}"


def digest(bearer: str) -> str:
    return hashlib.sha256(bearer.encode("utf-8", "surrogatepass")).hexdigest()


def token_id_of(bearer: str) -> str | None:
    """The id a bearer string names, or None when it is not shaped like a token."""
    found = _SHAPE.match(bearer)
    return f"tok_{found.group(1)}" if found else None


def proves(token: Token, bearer: str) -> bool:
    return hmac.compare_digest(token.secret_hash, digest(bearer))


def expiry(now: datetime, days: int | None) -> datetime | None:
    return now + timedelta(days=days) if days is not None else None


@dataclass
class Bucket:
    tokens: float
    at: float


@dataclass
class RateLimiter:
    """A token bucket per key: ``rate`` requests a second, ``burst`` at once."""

    rate: float
    burst: int
    buckets: dict[str, Bucket] = field(default_factory=dict)

    def take(self, key: str, now: float) -> float:
        """Take one request for ``key``; 0 when allowed, else seconds until one is."""
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = Bucket(float(self.burst), now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.at) * self.rate)
        bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.rate
