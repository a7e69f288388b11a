"""Token commands: create and revoke (the list is in ``queries.py``); answered on NATS
(``reasonops tokens ...``) and called by the REST API with the caller as ``actor``.

Anyone with a role may hold tokens of their own; issuing one for somebody else takes
``token.create``, revoking somebody else's ``token.revoke``. A token's roles must be
roles its principal holds, so a token never has more rights than its person.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from pathlib import Path

from reasonops_contracts.gateway import (
    ApiTokenIssued,
    ApiTokenView,
    CreateApiToken,
    RevokeApiToken,
)
from reasonops_runtime import Clock, DomainError, NotFound
from reasonops_runtime.enforcement import Enforcer
from reasonops_runtime.policy import LOCAL_OPERATOR, principal_of
from reasonops_runtime.store import Transaction

from . import store
from .domain import Token, digest, expiry, new_secret, proves, token_id_of
from .events import token_created, token_revoked

log = logging.getLogger(__name__)

Transact = Callable[[], AbstractAsyncContextManager[Transaction]]


BOOTSTRAP_NAME = "local operator"


class TokenCommands:
    def __init__(self, transaction: Transact, clock: Clock, enforcer: Enforcer) -> None:
        self.transaction = transaction
        self.clock = clock
        self.enforcer = enforcer

    async def create(self, command: CreateApiToken) -> ApiTokenIssued:
        now, actor = self.clock.now(), principal_of(command.actor)
        principal = command.principal or actor
        if principal != actor:
            self.enforcer.require(actor, "token.create", at=now, target=principal)
        else:
            self.enforcer.visibility(actor, at=now, reading="a token of its own")
        if not principal.startswith("user:"):
            raise DomainError(f"{principal}: a token acts for a person (user:<name>)",
                              "principal")
        held = set(self.enforcer.policy.roles_of(principal))
        if not held:
            raise DomainError(f"{principal} holds no role in the {self.enforcer.policy.source} "
                              "policy; a token for it could do nothing", "principal")
        unknown = sorted(set(command.roles) - held)
        if unknown:
            raise DomainError(f"{principal} does not hold {', '.join(unknown)} (it holds "
                              f"{', '.join(sorted(held))})", "roles")
        token_id, bearer = new_secret()
        token = Token(token_id=token_id, secret_hash=digest(bearer), name=command.name,
                      principal=principal, roles=tuple(sorted(set(command.roles))),
                      created_by=actor, created_at=now,
                      expires_at=expiry(now, command.expires_in_days))
        async with self.transaction() as tx:
            await store.add_token(tx.session, token)
            tx.emit(token_created(token))
        log.info("token created", extra={"token": token_id, "principal": principal})
        return ApiTokenIssued(**token.view().model_dump(), token=bearer)

    async def revoke(self, command: RevokeApiToken) -> ApiTokenView:
        now, actor = self.clock.now(), principal_of(command.actor)
        async with self.transaction() as tx:
            token = await store.get_token(tx.session, command.token_id)
            if token is None:
                raise NotFound(f"no token {command.token_id}", "token_id")
            if token.principal != actor:
                self.enforcer.require(actor, "token.revoke", at=now, target=token.token_id)
            if token.revoked_at is not None:
                return token.view()
            await store.revoke_token(tx.session, token.token_id, now)
            tx.emit(token_revoked(token, actor, now))
        log.info("token revoked", extra={"token": token.token_id})
        return replace(token, revoked_at=now).view()


    async def ensure_bootstrap(self, path: Path | None) -> None:
        """With ``path`` configured (``reasonops up`` sets it): the local operator's token,
        issued on first start and written there (mode 0600); issued anew when the one in
        the file no longer works (revoked, expired, another data directory)."""
        if path is None:
            return
        bearer = _read(path)
        if bearer:
            token_id = token_id_of(bearer)
            async with self.transaction() as tx:
                found = await store.get_token(tx.session, token_id) if token_id else None
            if found is not None and proves(found, bearer) and \
                    found.problem(self.clock.now()) is None:
                return
        # The service's own start, not anyone's request: no principal to check.
        issued = await self.create(CreateApiToken(
            actor=LOCAL_OPERATOR, name=BOOTSTRAP_NAME, expires_in_days=None))
        _write_private(path, issued.token + "\n")
        log.info("local operator's API token issued", extra={"token": issued.token_id,
                                                             "file": str(path)})


def _read(path: Path) -> str:
    return path.read_text().strip() if path.exists() else ""


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(text)
