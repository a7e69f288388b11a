"""The incident commands: opening by hand, lifecycle, hold/resume, assignment, comments,
major incidents."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from reasonops_contracts.ids import incident_number, new_id
from reasonops_contracts.incidents import (
    AcknowledgeIncident,
    AssignIncident,
    ChangeIncidentPriority,
    CloseIncident,
    CommentIncident,
    CreateIncident,
    DeclareMajorIncident,
    HoldIncident,
    IncidentCommented,
    IncidentView,
    ReopenIncident,
    ResolveIncident,
    ResumeIncident,
)
from reasonops_contracts.priority import priority_of
from reasonops_runtime import IllegalTransition, NotFound, Service, Transaction

from ..access import Access
from ..metrics import IncidentMetrics
from ..store import INCIDENT_NUMBER, Numbers
from . import store
from .domain import Incident, State, TransitionError, open_by_hand
from .escalation import Escalations, assignment_news, declare_major
from .events import emit, opened_event, priority_event, transition_event
from .rules import RuleFile
from .timeline import Timeline
from .views import incident_view

Change = Callable[[Transaction, Incident, Any, Timeline], Awaitable[None]]


class IncidentCommands:
    """Every command that changes an incident, each one a timeline entry, each one checked
    against the role policy (``incident.<action>`` on the incident's team and service)."""

    def __init__(self, service: Service, metrics: IncidentMetrics, rules: RuleFile,
                 escalations: Escalations, access: Access) -> None:
        self.service = service
        self.metrics = metrics
        self.rules = rules
        self.escalations = escalations
        self.access = access

    async def create(self, cmd: CreateIncident) -> IncidentView:
        """Open an incident by hand; its opening, assignment and (at P1) major declaration
        are announced as for one opened from monitoring."""
        now = self.service.clock.now()
        labels = {k: v for k, v in (("source", "service-desk"), ("category", cmd.category),
                                    ("caller", cmd.caller)) if v}
        annotations = {"description": cmd.description or "",
                       **{f"attachment_{i + 1}": link for i, link in
                          enumerate(cmd.attachments)}}
        async with self.service.transaction() as tx:
            numbers = Numbers(tx.session)
            incident = open_by_hand(
                incident_id=incident_number(await numbers.next(INCIDENT_NUMBER)),
                title=cmd.title, impact=cmd.impact, urgency=cmd.urgency,
                service=cmd.service, resource=cmd.resource, labels=labels,
                annotations={k: v for k, v in annotations.items() if v}, at=now,
                correlation_id=new_id())
            owner = self.access.team_of(incident)
            if cmd.assignment_group or owner:
                incident.assignment_group = cmd.assignment_group or owner
                incident.assignment_source = "user" if cmd.assignment_group else "catalog"
            self.access.incident(cmd.actor, "create", incident)
            timeline = Timeline()
            emit(tx, opened_event(incident), incident, None)
            timeline.add(incident.incident_id, now, cmd.actor, "opened",
                         f"opened by hand{f' for {cmd.caller}' if cmd.caller else ''}: "
                         f"P{incident.priority}: {incident.priority_reason}")
            for news in (assignment_news(incident, None, now, cmd.actor, timeline),
                         declare_major(incident, now, cmd.actor, "opened at P1", timeline)
                         if incident.priority == 1 else None):
                if news is not None:
                    emit(tx, news, incident, None)
            await store.save(tx.session, created=[incident], changed=[])
            await numbers.save()
            await timeline.save(tx.session)
            await self.escalations.arm(tx, incident, self.rules.current(), None)
            entries = await store.timeline_of(tx.session, incident.incident_id)
        self.metrics.opened.labels(f"P{incident.priority}", incident.service or "").inc()
        return incident_view(incident, entries, [])

    async def acknowledge(self, cmd: AcknowledgeIncident) -> IncidentView:
        return await self._command("acknowledge", cmd, self._transition("acknowledge"))

    async def resolve(self, cmd: ResolveIncident) -> IncidentView:
        return await self._command("resolve", cmd, self._transition("resolve"))

    async def close(self, cmd: CloseIncident) -> IncidentView:
        return await self._command("close", cmd, self._transition("close"))

    async def reopen(self, cmd: ReopenIncident) -> IncidentView:
        return await self._command("reopen", cmd, self._transition("reopen"))

    async def hold(self, cmd: HoldIncident) -> IncidentView:
        return await self._command("hold", cmd, self._transition("hold"))

    async def resume(self, cmd: ResumeIncident) -> IncidentView:
        return await self._command("resume", cmd, self._transition("resume"))

    async def assign(self, cmd: AssignIncident) -> IncidentView:
        return await self._command("assign", cmd, self._assign)

    async def comment(self, cmd: CommentIncident) -> IncidentView:
        return await self._command("comment", cmd, self._comment)

    async def declare_major(self, cmd: DeclareMajorIncident) -> IncidentView:
        return await self._command("declare_major", cmd, self._major)

    async def change_priority(self, cmd: ChangeIncidentPriority) -> IncidentView:
        return await self._command("change_priority", cmd, self._priority)

    async def _priority(self, tx: Transaction, incident: Incident,
                        cmd: ChangeIncidentPriority, timeline: Timeline) -> None:
        if incident.state in (State.RESOLVED, State.CLOSED):
            raise IllegalTransition(f"{incident.incident_id} is {incident.state.value}; "
                                    "reopen it to reassess it", "incident_id")
        if (incident.impact, incident.urgency) == (cmd.impact, cmd.urgency):
            raise IllegalTransition(f"{incident.incident_id} already has impact "
                                    f"{cmd.impact} and urgency {cmd.urgency}", "impact")
        now, previous = self.service.clock.now(), incident.priority
        incident.impact, incident.urgency = cmd.impact, cmd.urgency
        incident.priority = priority_of(cmd.impact, cmd.urgency)
        incident.priority_reason = (f"reassessed by hand: impact {cmd.impact}, urgency "
                                    f"{cmd.urgency} => P{incident.priority}: {cmd.note}")
        incident.updated_at = now
        emit(tx, priority_event(incident, previous, now, cmd.actor), incident, None)
        timeline.add(incident.incident_id, now, cmd.actor, "priority_changed",
                     f"P{previous} -> P{incident.priority}: {cmd.note}")
        if incident.priority == 1:
            news = declare_major(incident, now, cmd.actor, "reassessed to P1", timeline)
            if news is not None:
                emit(tx, news, incident, None)

    def register(self) -> None:
        for model, fn in ((CreateIncident, self.create), (AcknowledgeIncident, self.acknowledge),
                          (ResolveIncident, self.resolve), (CloseIncident, self.close),
                          (ReopenIncident, self.reopen), (HoldIncident, self.hold),
                          (ResumeIncident, self.resume), (AssignIncident, self.assign),
                          (CommentIncident, self.comment),
                          (DeclareMajorIncident, self.declare_major),
                          (ChangeIncidentPriority, self.change_priority)):
            self.service.respond(model, fn)  # type: ignore[arg-type]

    async def _command(self, action: str, cmd: Any, change: Change) -> IncidentView:
        async with self.service.transaction() as tx:
            incident = await store.get_incident(tx.session, cmd.incident_id, lock=True)
            if incident is None:
                raise NotFound(f"no incident {cmd.incident_id}", "incident_id")
            self.access.incident(cmd.actor, action, incident)
            timeline = Timeline()
            await change(tx, incident, cmd, timeline)
            await store.save(tx.session, created=[], changed=[incident])
            await timeline.save(tx.session)
            entries = await store.timeline_of(tx.session, incident.incident_id)
            resources = await store.resources_of(tx.session, incident.incident_id)
        return incident_view(incident, entries, resources)

    def _transition(self, action: str) -> Change:
        async def change(tx: Transaction, incident: Incident, cmd: Any,
                         timeline: Timeline) -> None:
            now = self.service.clock.now()
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
            self.metrics.transitioned(action, "user", incident)
            # Escalation runs only while nobody has acknowledged.
            await self.escalations.arm(tx, incident, self.rules.current(), None, now
                                       if action in ("reopen", "resume") else None)
        return change

    async def _assign(self, tx: Transaction, incident: Incident, cmd: AssignIncident,
                      timeline: Timeline) -> None:
        if incident.assignment_group == cmd.assignment_group:
            raise IllegalTransition(f"{incident.incident_id} is already assigned to "
                                    f"{cmd.assignment_group}", "assignment_group")
        now = self.service.clock.now()
        previous = incident.assignment_group
        incident.assignment_group, incident.assignment_source = cmd.assignment_group, "user"
        incident.escalation_level, incident.updated_at = 1, now
        self.escalations.after_assignment(tx, incident, previous, now, cmd.actor, timeline,
                                          None, cmd.note or f"assigned by {cmd.actor}")
        await self.escalations.arm(tx, incident, self.rules.current(), None, now)

    async def _comment(self, tx: Transaction, incident: Incident, cmd: CommentIncident,
                       timeline: Timeline) -> None:
        now = self.service.clock.now()
        incident.updated_at = now
        timeline.add(incident.incident_id, now, cmd.actor, "comment", cmd.note)
        emit(tx, IncidentCommented(incident_id=incident.incident_id, commented_at=now,
                                   actor=cmd.actor, note=cmd.note), incident, None)

    async def _major(self, tx: Transaction, incident: Incident, cmd: DeclareMajorIncident,
                     timeline: Timeline) -> None:
        now = self.service.clock.now()
        if not self.escalations.declare_major(tx, incident, now, cmd.actor,
                                              cmd.note or f"declared by {cmd.actor}",
                                              timeline, None):
            raise IllegalTransition(f"{incident.incident_id} is already a major incident",
                                    "incident_id")
        incident.updated_at = now


def register_commands(service: Service, metrics: IncidentMetrics, rules: RuleFile,
                      escalations: Escalations, access: Access) -> None:
    IncidentCommands(service, metrics, rules, escalations, access).register()
