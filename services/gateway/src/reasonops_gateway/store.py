"""The gateway's tables: API tokens, their secrets kept only as SHA-256, and what each
``Idempotency-Key`` was answered with (shared by every replica on one database)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    delete,
    insert,
    select,
    update,
)

from reasonops_runtime import Store, UtcDateTime
from reasonops_runtime.migrations import schema
from reasonops_runtime.store import Session

from .domain import Token

metadata = MetaData(info=schema("gateway", "reasonops_gateway:revisions"))

tokens = Table(
    "gateway_tokens",
    metadata,
    Column("token_id", String(32), primary_key=True),
    Column("secret_hash", String(64), nullable=False),
    Column("name", String(64), nullable=False),
    Column("principal", String(160), nullable=False, index=True),
    Column("roles", JSON, nullable=False),
    Column("created_by", String(160), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=True),
    Column("revoked_at", UtcDateTime(), nullable=True),
    Column("last_used_at", UtcDateTime(), nullable=True),
)

answers = Table(
    "gateway_idempotency",
    metadata,
    Column("scope", String(64), primary_key=True),
    Column("idempotency_key", String(255), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    # status None: the first request with the key is being answered; body None: an
    # answer not kept (``Cache-Control: no-store``, a secret shown once).
    Column("status", Integer, nullable=True),
    Column("content_type", String(128), nullable=True),
    Column("body", LargeBinary, nullable=True),
    Column("created_at", UtcDateTime(), nullable=False, index=True),
)


def _token(row: Any) -> Token:
    return Token(token_id=row.token_id, secret_hash=row.secret_hash, name=row.name,
                 principal=row.principal, roles=tuple(row.roles), created_by=row.created_by,
                 created_at=row.created_at, expires_at=row.expires_at,
                 revoked_at=row.revoked_at, last_used_at=row.last_used_at)


async def add_token(session: Session, token: Token) -> None:
    await session.execute(insert(tokens).values(
        token_id=token.token_id, secret_hash=token.secret_hash, name=token.name,
        principal=token.principal, roles=list(token.roles), created_by=token.created_by,
        created_at=token.created_at, expires_at=token.expires_at))


async def get_token(session: Session, token_id: str) -> Token | None:
    row = (await session.execute(select(tokens).where(tokens.c.token_id == token_id))).first()
    return _token(row) if row is not None else None


async def token_of(db: Store, token_id: str) -> Token | None:
    """The token a request presents, read outside any transaction (every request does)."""
    rows = await db.rows(select(tokens).where(tokens.c.token_id == token_id))
    return _token(rows[0]) if rows else None


async def find_tokens(session: Session, *, principal: str | None,
                      include_revoked: bool) -> list[Token]:
    query = select(tokens).order_by(tokens.c.created_at, tokens.c.token_id)
    if principal is not None:
        query = query.where(tokens.c.principal == principal)
    if not include_revoked:
        query = query.where(tokens.c.revoked_at.is_(None))
    return [_token(r) for r in await session.execute(query)]


async def revoke_token(session: Session, token_id: str, at: datetime) -> None:
    await session.execute(update(tokens).where(tokens.c.token_id == token_id)
                          .values(revoked_at=at))


async def touch_token(session: Session, token_id: str, at: datetime) -> None:
    await session.execute(update(tokens).where(tokens.c.token_id == token_id)
                          .values(last_used_at=at))


async def claim_key(session: Session, scope: str, key: str, fingerprint: str,
                    at: datetime) -> None:
    """Take ``key`` for a request being answered now (raises IntegrityError when another
    request holds it: the caller reads what that one left)."""
    await session.execute(insert(answers).values(
        scope=scope, idempotency_key=key, fingerprint=fingerprint, created_at=at))


async def answer_of(session: Session, scope: str, key: str) -> Any | None:
    rows = await session.execute(select(answers).where(
        answers.c.scope == scope, answers.c.idempotency_key == key))
    return rows.first()


async def keep_answer(session: Session, scope: str, key: str, status: int,
                      content_type: str | None, body: bytes | None) -> None:
    await session.execute(update(answers).where(
        answers.c.scope == scope, answers.c.idempotency_key == key).values(
        status=status, content_type=content_type, body=body))


async def release_key(session: Session, scope: str, key: str) -> None:
    await session.execute(delete(answers).where(
        answers.c.scope == scope, answers.c.idempotency_key == key))


async def forget_answers(session: Session, before: datetime) -> None:
    await session.execute(delete(answers).where(answers.c.created_at < before))
