"""The incident commands: lifecycle, hold/resume, assignment, comments, major incidents."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from reasonops_contracts.incidents import (
    AcknowledgeIncident,
    AssignIncident,
    CloseIncident,
    CommentIncident,
    DeclareMajorIncident,
    HoldIncident,
    IncidentView,
    ReopenIncident,
    ResolveIncident,
    ResumeIncident,
)
from reasonops_runtime import IllegalTransition, NotFound, Service, Transaction

from ..access import Access
from ..metrics import IncidentMetrics
from . import store
from .domain import Incident, TransitionError
from .escalation import Escalations
from .events import emit, transition_event
from .rules import RuleFile
from .timeline import Timeline
from .views import incident_view

Change = Callable[[Transaction, Incident, Any, Timeline], Awaitable[None]]


def register_commands(service: Service, metrics: IncidentMetrics, rules: RuleFile,
                      escalations: Escalations, access: Access) -> None:
    """Every command that changes an incident, each one a timeline entry, each one checked
    against the role policy (``incident.<action>`` on the incident's team and service)."""

    def command(action: str, change: Change) -> Callable[[Any], Awaitable[IncidentView]]:
        async def handle(cmd: Any) -> IncidentView:
            async with service.transaction() as tx:
                incident = await store.get_incident(tx.session, cmd.incident_id)
                if incident is None:
                    raise NotFound(f"no incident {cmd.incident_id}", "incident_id")
                access.incident(cmd.actor, action, incident)
                timeline = Timeline()
                await change(tx, incident, cmd, timeline)
                await store.save(tx.session, created=[], changed=[incident])
                await timeline.save(tx.session)
                entries = await store.timeline_of(tx.session, incident.incident_id)
            return incident_view(incident, entries)
        return handle

    def transition(action: str) -> Change:
        async def change(tx: Transaction, incident: Incident, cmd: Any,
                         timeline: Timeline) -> None:
            now = service.clock.now()
            before = incident.state.value
            try:
                incident.apply(action, now, cmd.note)
            except TransitionError as exc:
                raise IllegalTransition(str(exc), "incident_id") from exc
            emit(tx, transition_event(action, incident, now, cmd.actor, cmd.note), incident,
                 None)
            timeline.add(incident.incident_id, now, cmd.actor, "state_changed",
                         f"{before} -> {incident.state.value}"
                         + (f": {cmd.note}" if cmd.note else ""))
            metrics.transitioned(action, "user", incident)
            # Escalation runs only while nobody has acknowledged.
            await escalations.arm(tx, incident, rules.current(), None, now
                                  if action in ("reopen", "resume") else None)
        return change

    async def assign(tx: Transaction, incident: Incident, cmd: AssignIncident,
                     timeline: Timeline) -> None:
        if incident.assignment_group == cmd.assignment_group:
            raise IllegalTransition(f"{incident.incident_id} is already assigned to "
                                    f"{cmd.assignment_group}", "assignment_group")
        now = service.clock.now()
        previous = incident.assignment_group
        incident.assignment_group, incident.assignment_source = cmd.assignment_group, "user"
        incident.escalation_level, incident.updated_at = 1, now
        current = rules.current()
        escalations.after_assignment(tx, incident, previous, now, cmd.actor, timeline, None,
                                     cmd.note or f"assigned by {cmd.actor}")
        await escalations.arm(tx, incident, current, None, now)

    async def comment(tx: Transaction, incident: Incident, cmd: CommentIncident,
                      timeline: Timeline) -> None:
        now = service.clock.now()
        incident.updated_at = now
        timeline.add(incident.incident_id, now, cmd.actor, "comment", cmd.note)

    async def major(tx: Transaction, incident: Incident, cmd: DeclareMajorIncident,
                    timeline: Timeline) -> None:
        now = service.clock.now()
        if not escalations.declare_major(tx, incident, now, cmd.actor,
                                         cmd.note or f"declared by {cmd.actor}", timeline,
                                         None):
            raise IllegalTransition(f"{incident.incident_id} is already a major incident",
                                    "incident_id")
        incident.updated_at = now

    for model, action in ((AcknowledgeIncident, "acknowledge"), (ResolveIncident, "resolve"),
                          (CloseIncident, "close"), (ReopenIncident, "reopen"),
                          (HoldIncident, "hold"), (ResumeIncident, "resume")):
        service.respond(model, command(action, transition(action)))
    service.respond(AssignIncident, command("assign", assign))  # type: ignore[arg-type]
    service.respond(CommentIncident, command("comment", comment))  # type: ignore[arg-type]
    service.respond(DeclareMajorIncident,
                    command("declare_major", major))  # type: ignore[arg-type]
