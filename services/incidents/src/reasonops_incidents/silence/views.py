"""Silence -> the contract's read model."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from reasonops_contracts.incidents import (
    CoveringSilence,
    RecurringSchedule,
    SilencedAlert,
    SilenceView,
)

from .domain import Silence


def silence_view(silence: Silence, now: datetime, alerts: Sequence[Any] = ()) -> SilenceView:
    schedule = silence.schedule
    return SilenceView(
        silence_id=silence.silence_id, kind=silence.kind,  # type: ignore[arg-type]
        matchers=list(silence.matchers), starts_at=silence.starts_at, ends_at=silence.ends_at,
        schedule=None if schedule is None else RecurringSchedule(
            days=list(schedule.days), start=schedule.start,  # type: ignore[arg-type]
            duration_seconds=schedule.duration),
        until=silence.until, author=silence.author, reason=silence.reason,
        created_at=silence.created_at, expired_at=silence.expired_at,
        state=silence.state(now), matched_alerts=silence.matched,
        alerts=[SilencedAlert(fingerprint=a.fingerprint, name=a.name, service=a.service,
                              resource=a.resource, status=a.status,
                              last_seen_at=a.last_seen_at) for a in alerts])


def covering_view(incident_id: str, silence: Silence | None, now: datetime) -> CoveringSilence:
    """The silence covering an incident now (``silence``, matched against its fields)."""
    window = silence.window_at(now) if silence is not None else None
    if silence is None or window is None:
        return CoveringSilence(incident_id=incident_id)
    return CoveringSilence(incident_id=incident_id, silence_id=silence.silence_id,
                           kind=silence.kind,  # type: ignore[arg-type]
                           until=window[1] if window[1].year < 9999 else None)
