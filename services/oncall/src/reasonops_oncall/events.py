"""The on-call service's events, as it builds them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reasonops_contracts import Envelope, Event
from reasonops_contracts.oncall import (
    IncidentPaged,
    NotificationSent,
    OverrideCreated,
    OverrideRemoved,
    OverrideView,
    PageActedOn,
    PageDeferred,
    PagingStopped,
)
from reasonops_contracts.policy import AccessDenied
from reasonops_runtime import Timer

SOURCE = "oncall"


@dataclass(frozen=True)
class Chain:
    """The message (or timer) that led here: what is emitted or armed now is its
    consequence, so the incident's trail and trace stay whole."""

    correlation_id: str | None
    causation_id: str | None

    @classmethod
    def of(cls, envelope: Envelope) -> Chain:
        return cls(envelope.correlation_id, envelope.id)

    @classmethod
    def of_timer(cls, timer: Timer) -> Chain:
        return cls(timer.correlation_id, timer.causation_id)

    def wrap(self, event: Event, incident_id: str) -> Envelope:
        return Envelope.wrap(event, source=SOURCE, subject=incident_id,
                             correlation_id=self.correlation_id,
                             causation_id=self.causation_id)


def paged(incident_id: str, policy: str, level: int, cycle: int, users: list[str],
          urgency: Any, at: datetime) -> IncidentPaged:
    return IncidentPaged(incident_id=incident_id, policy=policy, level=level, cycle=cycle,
                         users=users, urgency=urgency, paged_at=at)


def notified(incident_id: str, user: str, channel: Any, level: int, attempt: int,
             outcome: Any, detail: str, at: datetime) -> NotificationSent:
    return NotificationSent(incident_id=incident_id, user=user, channel=channel, level=level,
                            attempt=attempt, outcome=outcome, detail=detail, sent_at=at)


def stopped(incident_id: str, reason: str, actor: str, at: datetime) -> PagingStopped:
    return PagingStopped(incident_id=incident_id, reason=reason, actor=actor, stopped_at=at)


def override_created(view: OverrideView) -> OverrideCreated:
    return OverrideCreated(override=view)


def override_removed(view: OverrideView, by: str, at: datetime) -> OverrideRemoved:
    return OverrideRemoved(override=view, removed_by=by, removed_at=at)


def acted_on(incident_id: str, user: str, action: Any, at: datetime) -> PageActedOn:
    return PageActedOn(incident_id=incident_id, user=user, action=action, acted_at=at)


def link_refused(sender: str, action: str, reason: str, at: datetime) -> AccessDenied:
    return AccessDenied(principal=sender or "(link)", action=f"oncall.{action}", roles=[],
                        reason=reason, service_name=SOURCE, denied_at=at)


def deferred(incident_id: str, level: int, silence_id: str, until: datetime,
             at: datetime) -> PageDeferred:
    return PageDeferred(incident_id=incident_id, level=level, silence_id=silence_id,
                        until=until, deferred_at=at)
