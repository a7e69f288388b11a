"""Changes: the commands that request, approve, carry out and review them."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field, model_validator

from .. import subjects
from ..messages import Actor, Command
from .fields import ChangeId, ChangeType, Outcome, ServiceName


class RequestChange(Command):
    """Ask for a change. A standard change names a pre-approved template and is approved
    at once; a normal one waits for the advisory board; an emergency one is approved at
    once and reviewed afterwards. Refused, with the reason, when the window overlaps
    another change on one of the services, or a freeze (an emergency may go into a
    freeze). Takes ``change.request``."""

    SUBJECT = subjects.CHANGE_CMD_REQUEST

    actor: Actor = ""
    type: ChangeType
    title: str | None = Field(default=None, min_length=1, max_length=256, description=(
        "Required, but for a standard change (the template's)"))
    description: str | None = Field(default=None, max_length=8192)
    services: list[ServiceName] = Field(default_factory=list, max_length=50, description=(
        "Affected services, from the catalog (a standard change: the template's unless "
        "given)"))
    impact: int = Field(default=3, ge=1, le=3, description="1 widespread .. 3 one team")
    planned_start: datetime
    planned_end: datetime | None = Field(default=None, description=(
        "Required, but for a standard change (start + the template's duration)"))
    implementation_plan: str | None = Field(default=None, max_length=8192)
    backout_plan: str | None = Field(default=None, max_length=8192)
    template: str | None = Field(default=None, min_length=1, max_length=64)

    @model_validator(mode="after")
    def _whole(self) -> RequestChange:
        if self.type == "standard":
            if self.template is None:
                raise ValueError("template: a standard change names its template")
        else:
            if self.template is not None:
                raise ValueError("template: only a standard change has one")
            for name in ("title", "planned_end", "implementation_plan"):
                if getattr(self, name) is None:
                    raise ValueError(f"{name}: required for a {self.type} change")
            if not self.services:
                raise ValueError("services: name at least one affected service")
        if self.planned_end is not None and self.planned_end <= self.planned_start:
            raise ValueError("planned_end: must be after planned_start")
        return self


class _ChangeCommand(Command):
    change_id: ChangeId
    actor: Actor = ""
    note: str | None = Field(default=None, max_length=4096)


class ApproveChange(_ChangeCommand):
    """The advisory board approved (sent by its workflow). Takes ``change.approve``."""

    SUBJECT = subjects.CHANGE_CMD_APPROVE

    approvers: list[str] = Field(default_factory=list, max_length=20)


class RejectChange(_ChangeCommand):
    """The advisory board rejected (sent by its workflow). Takes ``change.approve``."""

    SUBJECT = subjects.CHANGE_CMD_REJECT

    rejected_by: str | None = Field(default=None, max_length=160)


class StartChange(_ChangeCommand):
    """Begin implementing an approved change, within its window (an emergency: at any
    time): its services get a maintenance window until its planned end. Takes
    ``change.implement``."""

    SUBJECT = subjects.CHANGE_CMD_START


class CompleteChange(_ChangeCommand):
    """The change is done, with its outcome; the maintenance window ends. Takes
    ``change.implement``."""

    SUBJECT = subjects.CHANGE_CMD_COMPLETE

    outcome: Outcome


class CancelChange(_ChangeCommand):
    """Withdraw a change not yet implementing. Takes ``change.request``."""

    SUBJECT = subjects.CHANGE_CMD_CANCEL


class ReviewChange(_ChangeCommand):
    """Record the review an emergency change owes (sent by its workflow). Takes
    ``change.approve``."""

    SUBJECT = subjects.CHANGE_CMD_REVIEW

    accepted: bool = True
    reviewed_by: str | None = Field(default=None, max_length=160)
