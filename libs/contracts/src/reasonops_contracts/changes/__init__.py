"""Change management: change requests (standard, normal, emergency) with their risk,
planned window, affected services and plans; approval (a template, a change advisory
board through the orchestrator, or after the fact for an emergency); the calendar with
freezes and conflicts; implementation (a maintenance window on the affected services),
outcome, and the incidents that followed.

A module each for the fields, events, commands and queries (``from
reasonops_contracts.changes import X`` names any of them)."""

from __future__ import annotations

from .commands import (
    ApproveChange,
    CancelChange,
    CompleteChange,
    RejectChange,
    RequestChange,
    ReviewChange,
    StartChange,
)
from .events import (
    ChangeApproved,
    ChangeCancelled,
    ChangeCompleted,
    ChangeIncidentLinked,
    ChangeRejected,
    ChangeRequested,
    ChangeReviewed,
    ChangeStarted,
)
from .fields import (
    CHANGE_ID_PATTERN,
    ChangeId,
    ChangeState,
    ChangeType,
    Outcome,
    Risk,
    ServiceName,
)
from .queries import (
    ChangeCalendar,
    ChangeList,
    ChangeMetrics,
    ChangeView,
    FreezeView,
    GetChange,
    GetChangeCalendar,
    GetChangeMetrics,
    LinkedIncident,
    ListChanges,
    TemplateView,
)

__all__ = [
    "CHANGE_ID_PATTERN",
    "ApproveChange",
    "CancelChange",
    "ChangeApproved",
    "ChangeCalendar",
    "ChangeCancelled",
    "ChangeCompleted",
    "ChangeId",
    "ChangeIncidentLinked",
    "ChangeList",
    "ChangeMetrics",
    "ChangeRejected",
    "ChangeRequested",
    "ChangeReviewed",
    "ChangeStarted",
    "ChangeState",
    "ChangeType",
    "ChangeView",
    "CompleteChange",
    "FreezeView",
    "GetChange",
    "GetChangeCalendar",
    "GetChangeMetrics",
    "LinkedIncident",
    "ListChanges",
    "Outcome",
    "RejectChange",
    "RequestChange",
    "ReviewChange",
    "Risk",
    "ServiceName",
    "StartChange",
    "TemplateView",
]
