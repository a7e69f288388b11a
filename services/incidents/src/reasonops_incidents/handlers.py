"""The incident commands (acknowledge, resolve, close, reopen) and queries."""

from __future__ import annotations

from typing import Any

from reasonops_contracts.incidents import (
    AcknowledgeIncident,
    CloseIncident,
    GetIncident,
    IncidentList,
    IncidentView,
    ListIncidents,
    ReopenIncident,
    ResolveIncident,
)
from reasonops_runtime import IllegalTransition, NotFound, Service

from . import store
from .domain import TransitionError
from .events import emit, transition_event
from .metrics import IncidentMetrics
from .views import incident_view

INTAKE_CONSUMER = "incidents"


def register_commands(service: Service, metrics: IncidentMetrics) -> None:
    """Acknowledge/resolve/close/reopen commands and the list/get queries."""

    def transition(action: str):  # type: ignore[no-untyped-def]
        async def handle(cmd: Any) -> IncidentView:
            async with service.transaction() as tx:
                incident = await store.get_incident(tx.session, cmd.incident_id)
                if incident is None:
                    raise NotFound(f"no incident {cmd.incident_id}", "incident_id")
                now = service.clock.now()
                try:
                    incident.apply(action, now, cmd.note)
                except TransitionError as exc:
                    raise IllegalTransition(str(exc), "incident_id") from exc
                await store.save(tx.session, created=[], changed=[incident], alert_rows={},
                                 known_alerts=set())
                event = transition_event(action, incident, now, cmd.actor, cmd.note)
                emit(tx, event, incident, None)
            metrics.transitioned(action, "user", incident)
            return incident_view(incident)
        return handle

    service.respond(AcknowledgeIncident, transition("acknowledge"))
    service.respond(ResolveIncident, transition("resolve"))
    service.respond(CloseIncident, transition("close"))
    service.respond(ReopenIncident, transition("reopen"))

    async def get(query: GetIncident) -> IncidentView:
        async with service.store.read() as session:
            incident = await store.get_incident(session, query.incident_id)
        if incident is None:
            raise NotFound(f"no incident {query.incident_id}", "incident_id")
        return incident_view(incident)

    async def list_(query: ListIncidents) -> IncidentList:
        async with service.store.read() as session:
            found = await store.list_incidents(session, states=query.states,
                                               service=query.service, limit=query.limit)
        return IncidentList(items=[incident_view(i) for i in found])

    service.respond(GetIncident, get)
    service.respond(ListIncidents, list_)
