"""Silence and maintenance window queries."""

from __future__ import annotations

from reasonops_contracts.incidents import (
    CoveringSilence,
    GetCoveringSilence,
    GetSilence,
    ListSilences,
    SilenceList,
    SilenceView,
)
from reasonops_runtime import NotFound, Service

from ..access import Access, silenced_service
from ..incident import store
from ..incident.escalation import incident_fields
from .domain import first_match
from .store import get_silence, list_silences
from .views import covering_view, silence_view


class SilenceQueries:
    """Silences and maintenance windows, with the alerts each matched: those of the services
    the principal's roles cover, and those of no one service (they silence everyone's)."""

    def __init__(self, service: Service, access: Access) -> None:
        self.service = service
        self.access = access

    async def list_(self, query: ListSilences) -> SilenceList:
        now = self.service.clock.now()
        visible = self.access.visibility(query.actor, "silences")
        async with self.service.store.read() as session:
            found = await list_silences(session, now=now, include_expired=query.include_expired)
        return SilenceList(items=[silence_view(s, now) for s in found
                                  if self.access.covers(visible, silenced_service(s.matchers))])

    async def get(self, query: GetSilence) -> SilenceView:
        async with self.service.store.read() as session:
            silence = await get_silence(session, query.silence_id)
            if silence is None:
                raise NotFound(f"no silence {query.silence_id}", "silence_id")
            self.access.read(query.actor, "silence", silenced_service(silence.matchers),
                             silence.silence_id)
            alerts = await store.alerts_of_silence(session, query.silence_id)
        return silence_view(silence, self.service.clock.now(), alerts)

    async def covering(self, query: GetCoveringSilence) -> CoveringSilence:
        now = self.service.clock.now()
        async with self.service.store.read() as session:
            incident = await store.get_incident(session, query.incident_id)
            if incident is None:
                raise NotFound(f"no incident {query.incident_id}", "incident_id")
            self.access.read_incident(query.actor, incident)
            active = await list_silences(session, now=now, include_expired=False)
        return covering_view(query.incident_id,
                             first_match(active, incident_fields(incident), now), now)

    def register(self) -> None:
        self.service.respond(GetCoveringSilence, self.covering)
        self.service.respond(ListSilences, self.list_)
        self.service.respond(GetSilence, self.get)
