"""How the sync stands: any principal with a role may ask; an incident's record, and the
failures listed, only for incidents its roles cover."""

from __future__ import annotations

from reasonops_contracts.servicenow import GetServiceNowStatus, ServiceNowStatus
from reasonops_runtime import Service
from reasonops_runtime.enforcement import Enforcer
from reasonops_runtime.rpc import NotFound

from . import store
from .mapping import FieldMapping


class SyncQueries:
    def __init__(self, service: Service, mapping: FieldMapping | None, enforcer: Enforcer,
                 instance: str | None, auth: str) -> None:
        """``mapping`` None: no instance is configured."""
        self.service = service
        self.mapping = mapping
        self.enforcer = enforcer
        self.instance = instance
        self.auth = auth

    async def status(self, query: GetServiceNowStatus) -> ServiceNowStatus:
        now = self.service.clock.now()
        visible = self.enforcer.visibility(query.actor, at=now, reading="servicenow status")
        async with self.service.store.read() as session:
            linked, failing = await store.counts(session)
            pending = await store.pending(session)
            watermark, _ = await store.mark(session, store.WATERMARK)
            last_error, last_poll = await store.mark(session, store.LAST_POLL)
            failures = [link.view() for link in await store.failing(session)
                        if visible.covers(link.assignment_group, link.service)]
            link = None
            if query.incident_id is not None:
                found = (await store.of_incidents(session, [query.incident_id])).get(
                    query.incident_id)
                if found is None or not visible.covers(found.assignment_group, found.service):
                    raise NotFound(f"{query.incident_id} is not kept in step with "
                                   "ServiceNow", "incident_id")
                link = found.view()
        return ServiceNowStatus(
            configured=self.mapping is not None, instance=self.instance,
            auth=self.auth,  # type: ignore[arg-type]
            rules=self.mapping.rules() if self.mapping else [], linked=linked,
            pending=pending,
            failing=failing, watermark=watermark, last_poll_at=last_poll,
            last_poll_error=last_error, failures=failures, link=link)

    def register(self) -> None:
        self.service.respond(GetServiceNowStatus, self.status)
