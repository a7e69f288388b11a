"""Integrations: a sender, its key, and how its alerts are read. Pure: no I/O.

Keys are 32 random hex characters (the length of a PagerDuty routing key, so
PagerDuty clients accept them) and are kept only as their SHA-256: a key has
128 bits of entropy, so a fast hash cannot be brute-forced and lets a request be
authenticated by one indexed lookup.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from reasonops_contracts.ingest import IntegrationView, LabelMapping

KEY_PREFIX_LENGTH = 6
DEFAULT_INTEGRATION = "default"


def new_key() -> str:
    return secrets.token_hex(16)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Integration:
    """What ingest knows of a sender (its key only as a hash)."""

    name: str
    key_hash: str
    key_prefix: str
    created_at: datetime
    formats: tuple[str, ...] = ()
    default_service: str | None = None
    default_team: str | None = None
    label_mapping: LabelMapping = field(default_factory=LabelMapping)
    static_labels: dict[str, str] = field(default_factory=dict)
    rate_limit_per_second: float | None = None
    burst: int | None = None
    rotated_at: datetime | None = None
    previous_key_hash: str | None = None
    previous_key_valid_until: datetime | None = None
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def allows(self, fmt: str) -> bool:
        return not self.formats or fmt in self.formats

    def view(self) -> IntegrationView:
        return IntegrationView(
            name=self.name, status="active" if self.active else "revoked",
            key_prefix=self.key_prefix, formats=list(self.formats),  # type: ignore[arg-type]
            default_service=self.default_service, default_team=self.default_team,
            label_mapping=self.label_mapping, static_labels=dict(self.static_labels),
            rate_limit_per_second=self.rate_limit_per_second, burst=self.burst,
            created_at=self.created_at, rotated_at=self.rotated_at,
            previous_key_valid_until=self.previous_key_valid_until, revoked_at=self.revoked_at)


class Refusal(StrEnum):
    """Why a key was not accepted; the value is the metric label."""

    MISSING = "missing_key"
    UNKNOWN = "unknown_key"
    REVOKED = "revoked_key"
    EXPIRED = "expired_key"
    FORMAT = "format_not_allowed"

    @property
    def status(self) -> int:
        """401: who are you?  403: we know you, and the answer is no."""
        return 401 if self in (Refusal.MISSING, Refusal.UNKNOWN) else 403

    def message(self, fmt: str) -> str:
        return {
            Refusal.MISSING: "an integration key is required: 'Authorization: Bearer KEY' "
                             "or '?key=KEY'",
            Refusal.UNKNOWN: "unknown integration key",
            Refusal.REVOKED: "the integration of this key was revoked",
            Refusal.EXPIRED: "this key was rotated and its grace period is over",
            Refusal.FORMAT: f"this integration may not send {fmt!r}",
        }[self]


def check_key(integration: Integration | None, key_hash: str, fmt: str, now: datetime
              ) -> Integration | Refusal:
    """``integration`` (found by the key's hash) when it may send ``fmt`` now, else why not."""
    if integration is None:
        return Refusal.UNKNOWN
    if not integration.active:
        return Refusal.REVOKED
    if key_hash != integration.key_hash and (
            integration.previous_key_valid_until is None
            or integration.previous_key_valid_until <= now):
        return Refusal.EXPIRED
    if not integration.allows(fmt):
        return Refusal.FORMAT
    return integration
