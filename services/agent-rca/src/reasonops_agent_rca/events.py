"""A labelled case's history as the events the agent consumes (for the evaluation): its
alerts and changes as ingest accepts them, the past incidents opened and resolved, and
the incident itself opened at ``opened``."""

from __future__ import annotations

from datetime import datetime, timedelta

from reasonops_contracts.incidents import IncidentOpened
from reasonops_contracts.ingest import ChangeAccepted, EventAccepted

from .cases import Case

INCIDENT = "INC0999999"
"""The evaluated incident's number in every case."""
PAST_RESOLVED_AFTER = timedelta(hours=1)


def fingerprint(service: str, name: str) -> str:
    """An alert's fingerprint in a replayed case: its service first, so a hypothesis's
    evidence names the service it points at."""
    return f"{service}/{name}"


def history(case: Case, opened: datetime) -> tuple[
        list[EventAccepted], list[ChangeAccepted], list[IncidentOpened], IncidentOpened,
        list[tuple[str, datetime, str | None]]]:
    """(alerts, changes, past incidents, the incident, the past ones' resolutions)."""
    def at(minutes: float) -> datetime:
        return opened + timedelta(minutes=minutes)

    alerts = [EventAccepted(
        fingerprint=fingerprint(a.service, a.name), status="firing", name=a.name,
        severity="error", service=a.service, summary=a.summary, starts_at=at(a.minutes),
        received_at=at(a.minutes), source_format="event") for a in case.alerts]
    changes = [ChangeAccepted(change_id=c.id, summary=c.summary, service=c.service,
                              timestamp=at(c.minutes), received_at=at(c.minutes))
               for c in case.changes]
    past = [IncidentOpened(
        incident_id=p.id, title=p.title, service=p.service, severity="error", impact=2,
        urgency=2, priority=3, priority_reason="replayed", fingerprint=f"past-{p.id}",
        labels={"alertname": p.alertname}, opened_at=at(-7 * 24 * 60 - n * 60))
        for n, p in enumerate(case.past)]
    incident = case.incident
    this = IncidentOpened(
        incident_id=INCIDENT, title=incident.title, service=incident.service,
        severity="error", impact=2, urgency=1, priority=2, priority_reason="replayed",
        fingerprint=fingerprint(incident.service, incident.alertname),
        labels={"alertname": incident.alertname}, opened_at=opened)
    resolutions: list[tuple[str, datetime, str | None]] = [
        (p.incident_id, p.opened_at + PAST_RESOLVED_AFTER, c.resolution)
        for p, c in zip(past, case.past, strict=True)]
    return alerts, changes, past, this, resolutions
