"""Integration commands: create, revoke, rotate (the list is in ``queries.py``).

A key is returned once, by create and rotate; the store keeps its SHA-256. With
``REASONOPS_DEFAULT_INTEGRATION_KEY_FILE`` set (``reasonops up`` sets it), the
``default`` integration is created on first start and its key written to that file
(mode 0600), and rewritten when the key is rotated.
"""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from sqlalchemy.exc import IntegrityError

from reasonops_contracts.ingest import (
    CreateIntegration,
    IntegrationKeyIssued,
    IntegrationList,
    RevokeIntegration,
    RotateIntegrationKey,
)
from reasonops_runtime import Clock, DomainError, IllegalTransition, NotFound, Store
from reasonops_runtime.enforcement import Enforcer

from . import store
from .gate import Directory
from .integrations import DEFAULT_INTEGRATION, KEY_PREFIX_LENGTH, Integration, hash_key, new_key

log = logging.getLogger(__name__)


class Integrations:
    def __init__(self, db: Store, clock: Clock, directory: Directory, enforcer: Enforcer,
                 key_file: Path | None = None) -> None:
        self.db = db
        self.clock = clock
        self.directory = directory
        self.enforcer = enforcer
        self.key_file = key_file

    def _allowed(self, actor: str, action: str, name: str) -> None:
        """``Forbidden`` (on record) unless the role policy lets ``actor`` do it."""
        self.enforcer.require(actor, f"integration.{action}", at=self.clock.now(), target=name)

    async def create(self, command: CreateIntegration) -> IntegrationKeyIssued:
        self._allowed(command.actor, "create", command.name)
        return await self._create(command)

    async def _create(self, command: CreateIntegration) -> IntegrationKeyIssued:
        key = new_key()
        integration = Integration(
            name=command.name, key_hash=hash_key(key), key_prefix=key[:KEY_PREFIX_LENGTH],
            created_at=self.clock.now(), formats=tuple(command.formats),
            default_service=command.default_service, default_team=command.default_team,
            label_mapping=command.label_mapping, static_labels=dict(command.static_labels),
            rate_limit_per_second=command.rate_limit_per_second, burst=command.burst)
        try:
            async with self.db.transaction() as tx:
                await store.add_integration(tx.session, integration)
        except IntegrityError:
            raise DomainError(f"an integration named {command.name!r} exists", "name") from None
        log.info("integration created", extra={"integration": command.name})
        return IntegrationKeyIssued(integration=integration.view(), key=key)

    async def revoke(self, command: RevokeIntegration) -> IntegrationList:
        self._allowed(command.actor, "revoke", command.name)
        now = self.clock.now()
        async with self.db.transaction() as tx:
            found = await self._get(tx.session, command.name)
            await store.update_integration(tx.session, command.name, revoked_at=now,
                                           previous_key_hash=None,
                                           previous_key_valid_until=None)
        self.directory.forget()
        log.info("integration revoked", extra={"integration": command.name})
        return IntegrationList(items=[replace(found, revoked_at=now).view()])

    async def rotate(self, command: RotateIntegrationKey) -> IntegrationKeyIssued:
        self._allowed(command.actor, "rotate", command.name)
        key, now = new_key(), self.clock.now()
        valid_until = now + timedelta(seconds=command.grace_seconds)
        async with self.db.transaction() as tx:
            found = await self._get(tx.session, command.name)
            if not found.active:
                raise IllegalTransition(f"integration {command.name!r} is revoked", "name")
            grace = command.grace_seconds > 0
            await store.update_integration(
                tx.session, command.name, key_hash=hash_key(key),
                key_prefix=key[:KEY_PREFIX_LENGTH], rotated_at=now,
                previous_key_hash=found.key_hash if grace else None,
                previous_key_valid_until=valid_until if grace else None)
        self.directory.forget()
        if command.name == DEFAULT_INTEGRATION:
            self._write_key_file(key)
        rotated = replace(found, key_prefix=key[:KEY_PREFIX_LENGTH], rotated_at=now,
                          previous_key_valid_until=valid_until if grace else None)
        log.info("integration key rotated", extra={"integration": command.name})
        return IntegrationKeyIssued(integration=rotated.view(), key=key)

    async def ensure_default(self) -> None:
        """On first start (and only with a key file configured): the default integration."""
        if self.key_file is None:
            return
        async with self.db.read() as session:
            if await store.integration_named(session, DEFAULT_INTEGRATION) is not None:
                return
        # The service's own start, not anyone's request: no principal to check.
        issued = await self._create(CreateIntegration(name=DEFAULT_INTEGRATION))
        self._write_key_file(issued.key)

    def _write_key_file(self, key: str) -> None:
        if self.key_file is None:
            return
        self.key_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(key + "\n")

    async def _get(self, session: object, name: str) -> Integration:
        found = await store.integration_named(session, name)  # type: ignore[arg-type]
        if found is None:
            raise NotFound(f"no integration named {name!r}", "name")
        return found
