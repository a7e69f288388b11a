"""What people and ServiceNow ask of the sync: a resync of incidents (``servicenow.resync``)
and a record ServiceNow says changed (``servicenow.inbound``, read from ServiceNow
durably, at once)."""

from __future__ import annotations

import asyncio

from reasonops_contracts.servicenow import (
    InboundAccepted,
    ResyncResult,
    ResyncServiceNow,
    ServiceNowInbound,
    ServiceNowLink,
)
from reasonops_runtime import Service
from reasonops_runtime.enforcement import Enforcer
from reasonops_runtime.rpc import DomainError, NotFound

from . import store
from .handlers import PULL_TIMER, Sync, pull_id
from .table import TableError, Unavailable

CLAIM_TRIES = 50
"""A push held by another replica is waited for this many times 0.1 s."""


class NotConfigured(DomainError):
    code = "conflict"


class SyncCommands:
    def __init__(self, service: Service, sync: Sync | None, enforcer: Enforcer) -> None:
        self.service = service
        self.sync = sync
        self.enforcer = enforcer

    def _sync(self) -> Sync:
        if self.sync is None:
            raise NotConfigured("no ServiceNow instance is configured "
                                "(REASONOPS_SERVICENOW_URL)", "instance")
        return self.sync

    async def resync(self, command: ResyncServiceNow) -> ResyncResult:
        now = self.service.clock.now()
        self.enforcer.require(command.actor, "servicenow.resync", at=now,
                              target=",".join(command.incident_ids)[:256])
        sync = self._sync()
        items: list[ServiceNowLink] = []
        for incident_id in dict.fromkeys(command.incident_ids):
            items.append(await self._one(sync, incident_id, command.force))
        return ResyncResult(items=items)

    async def _one(self, sync: Sync, incident_id: str, force: bool) -> ServiceNowLink:
        for attempt in range(CLAIM_TRIES):
            try:
                # Asked for and claimed at once the first time: a dispatcher that took it
                # between the two would finish it and leave nothing to claim.
                link = await sync.outbound.push(incident_id, now_or_never=True,
                                                want=force if attempt == 0 else None)
            except Unavailable as exc:
                async with self.service.store.read() as session:
                    found = (await store.of_incidents(session, [incident_id])).get(incident_id)
                view = found.view() if found else ServiceNowLink(incident_id=incident_id,
                                                                 sys_id=None)
                return view.model_copy(update={"failure": (
                    f"{exc.reason}; kept, and tried again in {exc.retry_after:.0f}s")})
            if link is not None:
                break
            async with self.service.store.read() as session:
                if not await store.in_flight(session, [incident_id],
                                             self.service.clock.now()):
                    raise NotFound(f"{incident_id}: no such incident, or no rule of the "
                                   "mapping chooses it (resync with force to create its "
                                   "record anyway)", "incident_ids")
            await asyncio.sleep(0.1)  # another replica is pushing it: wait for that
        else:
            raise DomainError(f"{incident_id}: another replica holds its push; try again",
                              "incident_ids")
        if link.sys_id is not None:
            try:
                async with self.service.transaction() as tx:
                    link = await sync.inbound.pull(tx, link.sys_id, "resync") or link
            except Unavailable as exc:
                return link.view().model_copy(update={"failure": exc.reason})
            except TableError as exc:
                raise DomainError(f"{incident_id}: {exc}", exc.field) from None
        return link.view()

    async def inbound(self, command: ServiceNowInbound) -> InboundAccepted:
        now = self.service.clock.now()
        self.enforcer.require(command.actor, "servicenow.inbound", at=now,
                              target=command.sys_id)
        self._sync()
        async with self.service.transaction() as tx:
            await tx.schedule(pull_id(command.sys_id), PULL_TIMER, now,
                              {"sys_id": command.sys_id})
        return InboundAccepted(sys_id=command.sys_id, accepted_at=now)

    def register(self) -> None:
        self.service.respond(ResyncServiceNow, self.resync)
        self.service.respond(ServiceNowInbound, self.inbound)
