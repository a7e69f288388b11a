"""Domain objects -> the contract's read models."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from reasonops_contracts.incidents import (
    CorrelationRulesView,
    IncidentView,
    ProbableCause,
    RuleView,
)

from .domain import Incident
from .rules import RuleFile
from .timeline import entry_view


def incident_view(incident: Incident, timeline: Sequence[Any] = (),
                  resources: Sequence[str] = ()) -> IncidentView:
    cause = incident.probable_cause
    return IncidentView(
        incident_id=incident.incident_id,
        title=incident.title,
        state=incident.state.value,
        service=incident.service,
        resource=incident.resource,
        severity=incident.severity,  # type: ignore[arg-type]
        impact=incident.impact,
        urgency=incident.urgency,
        priority=incident.priority,
        priority_reason=incident.priority_reason,
        fingerprint=incident.fingerprint,
        alert_count=incident.alert_count,
        labels=incident.labels,
        opened_at=incident.opened_at,
        acknowledged_at=incident.acknowledged_at,
        resolved_at=incident.resolved_at,
        closed_at=incident.closed_at,
        updated_at=incident.updated_at,
        note=incident.note,
        rule=incident.rule,
        group_key=incident.group_key,
        assignment_group=incident.assignment_group,
        assignment_source=incident.assignment_source,
        major=incident.major,
        escalation_level=incident.escalation_level,
        firing_alerts=incident.firing_alerts,
        last_alert_at=incident.last_alert_at,
        probable_cause=None if not cause else ProbableCause(
            service=cause["service"], incident_id=cause.get("incident_id") or None,
            alert=cause.get("alert") or None, resource=cause.get("resource") or None,
            fingerprint=cause.get("fingerprint") or None,
            detected_at=datetime.fromisoformat(cause["detected_at"]), reason=cause["reason"]),
        problem_id=incident.problem_id,
        resources=list(resources),
        timeline=[entry_view(row) for row in timeline],
    )


def rules_view(rule_file: RuleFile) -> CorrelationRulesView:
    rules = rule_file.current()
    return CorrelationRulesView(
        path=str(rule_file.path) if rule_file.path else None, loaded_at=rule_file.loaded_at,
        rules=[RuleView(name=r.name, match=[m.text for m in r.matchers]
                        + ([f"any of: {', '.join(m.text for m in r.any_of)}"]
                           if r.any_of else []),
                        group_by=list(r.group_by), window_seconds=r.window,
                        create_on=r.create_text, resolve_on=r.resolve_on,
                        assign_to=r.assign_to) for r in rules.rules],
        assignment_precedence=list(rules.precedence),
        escalation_policies={team: [f"{lv.after}s -> {lv.to}" for lv in levels]
                             for team, levels in rules.escalation.items()},
        error=rule_file.error)
