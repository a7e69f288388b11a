"""Tokens -> the events the gateway publishes (never with a secret in them)."""

from __future__ import annotations

from datetime import datetime

from reasonops_contracts import Envelope
from reasonops_contracts.gateway import ApiTokenCreated, ApiTokenRevoked

from .domain import Token

SOURCE = "gateway"
"""The source of every event the gateway publishes."""


def token_created(token: Token) -> Envelope:
    return Envelope.wrap(ApiTokenCreated(
        token_id=token.token_id, name=token.name, principal=token.principal,
        roles=list(token.roles), created_by=token.created_by, created_at=token.created_at,
        expires_at=token.expires_at), source=SOURCE, subject=token.token_id)


def token_revoked(token: Token, by: str, at: datetime) -> Envelope:
    return Envelope.wrap(ApiTokenRevoked(token_id=token.token_id, principal=token.principal,
                                         revoked_by=by, revoked_at=at),
                         source=SOURCE, subject=token.token_id)
