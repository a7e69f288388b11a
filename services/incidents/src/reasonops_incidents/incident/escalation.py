"""Assignment announcements, major incidents and per-team escalation on durable timers.

A team's policy lists levels with the time after assignment by which the incident must
be acknowledged (``after``) and whom the next level pages (``to``). One kit timer per
incident points at the next level; it lives in the store, so an escalation due while
the service was down fires when it is back. Each escalation is an event and a timeline
entry. An incident whose alerts a silence covers pages no one: the level is put off
until the silence ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from reasonops_contracts import Envelope
from reasonops_contracts.incidents import (
    IncidentAssigned,
    IncidentEscalated,
    IncidentMajorDeclared,
    IncidentOpened,
)
from reasonops_runtime import Clock, Timer, Transaction

from ..metrics import IncidentMetrics
from ..silence.store import SilenceBook
from ..silence.views import covering_view
from . import store
from .batch import Silences
from .correlation import alert_fields
from .domain import Incident, State
from .events import assigned_event, emit, major_event, opened_event
from .rules import RuleFile, RuleSet
from .timeline import Timeline

ESCALATION_TIMER = "incident-escalation"


def timer_id(incident_id: str) -> str:
    return f"{ESCALATION_TIMER}:{incident_id}"


def assignment_news(incident: Incident, previous: str | None, now: datetime, actor: str,
                    timeline: Timeline, reason: str | None = None) -> IncidentAssigned | None:
    """The announcement of the incident's (new) assignment group, if it has a new one."""
    if not incident.assignment_group or incident.assignment_group == previous:
        return None
    why = reason or _source_reason(incident)
    timeline.add(incident.incident_id, now, actor, "assigned",
                 f"assigned to {incident.assignment_group}"
                 + (f" (was {previous})" if previous else "") + f": {why}",
                 group=incident.assignment_group, source=incident.assignment_source or "")
    return assigned_event(incident, previous, now, actor, why)


def declare_major(incident: Incident, now: datetime, actor: str, reason: str,
                  timeline: Timeline) -> IncidentMajorDeclared | None:
    """Make the incident major; None if it already is."""
    if incident.major:
        return None
    incident.major = True
    timeline.add(incident.incident_id, now, actor, "major_declared",
                 f"major incident declared: {reason}")
    return major_event(incident, now, actor, reason)


class Escalations:
    def __init__(self, clock: Clock, rules: RuleFile, silences: SilenceBook,
                 metrics: IncidentMetrics | None = None) -> None:
        self.clock = clock
        self.rules = rules
        self.silences = silences
        self.metrics = metrics

    def after_assignment(self, tx: Transaction, incident: Incident, previous: str | None,
                         now: datetime, actor: str, timeline: Timeline,
                         cause: Envelope | None, reason: str | None = None) -> None:
        """Announce the incident's (new) assignment group."""
        event = assignment_news(incident, previous, now, actor, timeline, reason)
        if event is not None:
            emit(tx, event, incident, cause)

    def declare_major(self, tx: Transaction, incident: Incident, now: datetime, actor: str,
                      reason: str, timeline: Timeline, cause: Envelope | None) -> bool:
        event = declare_major(incident, now, actor, reason, timeline)
        if event is not None:
            emit(tx, event, incident, cause)
        return event is not None

    async def arm(self, tx: Transaction, incident: Incident, rules: RuleSet,
                  cause: Envelope | None, base: datetime | None = None, *,
                  cancel: bool = True) -> bool:
        """Point the incident's timer at its next level, if its team has one left."""
        levels = rules.escalation.get(incident.assignment_group or "")
        index = incident.escalation_level - 1
        if incident.state is not State.NEW or not levels or index >= len(levels):
            if cancel:
                await tx.cancel(timer_id(incident.incident_id))
            return False
        start = base or incident.opened_at
        await tx.schedule(
            timer_id(incident.incident_id), ESCALATION_TIMER,
            start + timedelta(seconds=levels[index].after),
            {"incident_id": incident.incident_id, "level": incident.escalation_level + 1,
             "group": incident.assignment_group or "", "base": start.isoformat()},
            correlation_id=cause.correlation_id if cause else incident.correlation_id,
            causation_id=cause.id if cause else None)
        return True

    async def arm_all(self, tx: Transaction, armed: Sequence[tuple[Incident, Envelope]],
                      rules: RuleSet, now: datetime) -> None:
        """``arm`` for many incidents (from ``now``): the timers of those with no level
        left are cancelled in one statement."""
        idle = []
        for incident, cause in armed:
            if not await self.arm(tx, incident, rules, cause, now, cancel=False):
                idle.append(timer_id(incident.incident_id))
        await tx.cancel_many(idle)

    async def on_timer(self, tx: Transaction, timer: Timer) -> None:
        incident = await store.get_incident(tx.session, str(timer.payload["incident_id"]),
                                            lock=True)
        level = int(timer.payload["level"])
        if incident is None or incident.state is not State.NEW \
                or incident.assignment_group != timer.payload["group"] \
                or incident.escalation_level != level - 1:
            return  # acknowledged, reassigned or escalated meanwhile
        rules = self.rules.current()
        levels = rules.escalation.get(incident.assignment_group or "")
        if not levels or level - 2 >= len(levels):
            return
        now = self.clock.now()
        timeline = Timeline()
        base = datetime.fromisoformat(str(timer.payload["base"]))
        await self.silences.refresh(tx.session)
        silence = self.silences.match(incident_fields(incident), now)
        if silence is not None:
            window = silence.window_at(now)
            timeline.add(incident.incident_id, now, "incidents", "escalation_suppressed",
                         f"escalation to level {level} put off: {silence.silence_id} "
                         f"({silence.kind}) covers it", silence=silence.silence_id)
            if window is not None and window[1].year < 9999:
                await tx.schedule(timer.timer_id, ESCALATION_TIMER, window[1], timer.payload,
                                  correlation_id=timer.correlation_id,
                                  causation_id=timer.causation_id)
            await timeline.save(tx.session)
            return
        target = levels[level - 2].to
        incident.escalation_level = level
        incident.updated_at = now
        event = IncidentEscalated(
            incident_id=incident.incident_id, level=level, target=target,
            assignment_group=incident.assignment_group or "", policy=incident.assignment_group
            or "", escalated_at=now,
            reason=f"not acknowledged {levels[level - 2].after}s after assignment")
        tx.emit(Envelope.wrap(event, source="incidents", subject=incident.incident_id,
                              correlation_id=timer.correlation_id or incident.correlation_id,
                              causation_id=timer.causation_id))
        timeline.add(incident.incident_id, now, "incidents", "escalated",
                     f"escalated to level {level} ({target}): {event.reason}",
                     level=str(level), target=target)
        await store.save(tx.session, created=[], changed=[incident])
        await self.arm(tx, incident, rules, None, base)
        if self.metrics is not None:  # counted once committed (timers may fire again)
            tx.after_commit(self.metrics.escalations.labels(incident.assignment_group or "").inc)
        await timeline.save(tx.session)


def incident_fields(incident: Incident) -> dict[str, str]:
    """What a silence's matchers see of an incident (as of its first alert)."""
    return alert_fields(fingerprint=incident.fingerprint,
                        name=incident.labels.get("alertname") or incident.title,
                        severity=incident.severity, service=incident.service,
                        resource=incident.resource, labels=incident.labels)


def opened_news(incident: Incident, silences: Silences, at: datetime) -> IncidentOpened:
    """``incident.opened``, saying whether a silence covers the incident at ``at`` (its
    first alert was not silenced, yet the incident's fields may differ), so that nobody
    has to ask."""
    return opened_event(incident, covering_view(
        incident.incident_id, silences.match(incident_fields(incident), at), at))


def _source_reason(incident: Incident) -> str:
    return {"rule": f"correlation rule {incident.rule}",
            "catalog": f"catalog owner of {incident.service}",
            "triage": "triage agent's decision", "user": "assigned by hand"}.get(
        incident.assignment_source or "", "assigned")
