"""Other services' news about an incident, onto its timeline: agent decisions and SLA events.

Only the generic fields of an agent decision are read (agent, provider, incident_id,
decision_id, summary, and an ``assignment_group`` where the decision carries one), so
the timeline keeps working as agents' outputs evolve.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from reasonops_contracts import Envelope, subjects
from reasonops_runtime import Clock, Delivery, Transaction, envelope_of

from . import store
from .access import Access
from .correlation import outranks
from .escalation import Escalations
from .rules import RuleFile
from .timeline import Timeline

AGENTS_CONSUMER = "incidents-agents"
SLM_CONSUMER = "incidents-slm"
AGENT_SUBJECTS = (subjects.AGENT_DECISION,)
SLM_SUBJECTS = (subjects.SLA_STARTED, subjects.SLA_MET, subjects.SLA_BREACHED)


class Chronicle:
    """Batch handler for agent decisions and SLA events (one instance per consumer)."""

    def __init__(self, clock: Clock, rules: RuleFile, escalations: Escalations,
                 access: Access) -> None:
        self.clock = clock
        self.rules = rules
        self.escalations = escalations
        self.access = access

    def decode(self, delivery: Delivery) -> tuple[str, Envelope]:
        return delivery.subject, envelope_of(delivery)

    def key(self, item: tuple[str, Envelope]) -> str:
        return item[1].id

    async def __call__(self, tx: Transaction, batch: Sequence[tuple[Delivery, Any]]) -> None:
        timeline = Timeline()
        for _, (subject, envelope) in batch:
            data: dict[str, Any] = envelope.data
            if not data.get("incident_id"):
                continue  # e.g. a security review of events no incident was opened for
            if subject == subjects.AGENT_DECISION:
                await self._decision(tx, envelope, data, timeline)
            elif subject in SLM_SUBJECTS:
                _sla(SLM_SUBJECTS.index(subject), envelope, data, timeline)
        await timeline.save(tx.session)

    async def _decision(self, tx: Transaction, envelope: Envelope, data: dict[str, Any],
                        timeline: Timeline) -> None:
        agent = str(data.get("agent") or "agent")
        incident_id = str(data["incident_id"])
        summary = data.get("summary") or f"{agent} decision {data.get('decision_id', '')}"
        timeline.add(incident_id, _time(data, "decided_at", envelope), f"agent:{agent}",
                     "agent_decision", str(summary), decision_id=str(data.get("decision_id", "")),
                     provider=str(data.get("provider", "")))
        output = data.get("output") if isinstance(data.get("output"), dict) else {}
        group = data.get("assignment_group") or (output or {}).get("assignment_group")
        if not group:
            return
        incident = await store.get_incident(tx.session, incident_id)
        rules = self.rules.current()
        if incident is None or incident.assignment_group == group \
                or not outranks(rules.precedence, "triage", incident.assignment_source):
            return
        denial = self.access.agent_assignment(f"agent:{agent}", incident, envelope)
        if denial is not None:  # the decision stays on the timeline; the refusal on record
            tx.emit(denial)
            timeline.add(incident_id, self.clock.now(), f"agent:{agent}", "access_denied",
                         f"assignment to {group} refused: {denial.data['reason']}")
            return
        now = self.clock.now()
        previous = incident.assignment_group
        incident.assignment_group, incident.assignment_source = str(group), "triage"
        incident.escalation_level = 1
        incident.updated_at = now
        self.escalations.after_assignment(tx, incident, previous, now, f"agent:{agent}",
                                          timeline, envelope, rules,
                                          f"triage agent ({data.get('provider', '')})")
        await store.save(tx.session, created=[], changed=[incident])
        await self.escalations.arm(tx, incident, rules, envelope, now)


def _sla(which: int, envelope: Envelope, data: dict[str, Any], timeline: Timeline) -> None:
    kind = str(data.get("kind", ""))
    verb = ("started", "met", "breached")[which]  # the order of SLM_SUBJECTS
    if verb == "started":
        detail = f"{kind} clock started ({data.get('policy', '')}), due {data.get('deadline')}"
    elif verb == "met":
        detail = f"{kind} target met after {float(data.get('elapsed_seconds', 0)):.0f}s"
    else:
        detail = f"{kind} target breached (deadline {data.get('deadline')})"
    at = _time(data, {"started": "started_at", "met": "stopped_at"}.get(verb, "breached_at"),
               envelope)
    timeline.add(str(data["incident_id"]), at, "slm", "sla", detail,
                 clock_id=str(data.get("clock_id", "")), event=verb)


def _time(data: dict[str, Any], name: str, envelope: Envelope) -> datetime:
    """The event's own time field, else the envelope's."""
    try:
        value = datetime.fromisoformat(str(data[name]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return envelope.time
    return value if value.tzinfo else envelope.time
