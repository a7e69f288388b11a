"""The gateway's one table: API tokens, their secrets kept only as SHA-256."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, MetaData, String, Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from reasonops_runtime import Store, UtcDateTime
from reasonops_runtime.migrations import schema

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


def _token(row: Any) -> Token:
    return Token(token_id=row.token_id, secret_hash=row.secret_hash, name=row.name,
                 principal=row.principal, roles=tuple(row.roles), created_by=row.created_by,
                 created_at=row.created_at, expires_at=row.expires_at,
                 revoked_at=row.revoked_at, last_used_at=row.last_used_at)


async def add_token(session: AsyncSession, token: Token) -> None:
    await session.execute(insert(tokens).values(
        token_id=token.token_id, secret_hash=token.secret_hash, name=token.name,
        principal=token.principal, roles=list(token.roles), created_by=token.created_by,
        created_at=token.created_at, expires_at=token.expires_at))


async def get_token(session: AsyncSession, token_id: str) -> Token | None:
    row = (await session.execute(select(tokens).where(tokens.c.token_id == token_id))).first()
    return _token(row) if row is not None else None


async def token_of(db: Store, token_id: str) -> Token | None:
    """The token a request presents, read outside any transaction (every request does)."""
    rows = await db.rows(select(tokens).where(tokens.c.token_id == token_id))
    return _token(rows[0]) if rows else None


async def find_tokens(session: AsyncSession, *, principal: str | None,
                      include_revoked: bool) -> list[Token]:
    query = select(tokens).order_by(tokens.c.created_at, tokens.c.token_id)
    if principal is not None:
        query = query.where(tokens.c.principal == principal)
    if not include_revoked:
        query = query.where(tokens.c.revoked_at.is_(None))
    return [_token(r) for r in await session.execute(query)]


async def revoke_token(session: AsyncSession, token_id: str, at: datetime) -> None:
    await session.execute(update(tokens).where(tokens.c.token_id == token_id)
                          .values(revoked_at=at))


async def touch_token(session: AsyncSession, token_id: str, at: datetime) -> None:
    await session.execute(update(tokens).where(tokens.c.token_id == token_id)
                          .values(last_used_at=at))
