"""Role policy decisions worth an audit record."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from . import subjects
from .messages import Event


class AccessDenied(Event):
    """A command or proposal the role policy refused; published by the service that refused."""

    SUBJECT = subjects.POLICY_ACCESS_DENIED

    principal: str
    action: str
    roles: list[str]
    reason: str
    incident_id: str | None = None
    target: str | None = Field(default=None, description="What the refused action was on when "
                               "not an incident: a problem, a silence, a month, a proposal")
    team: str | None = None
    service: str | None = None
    service_name: str = Field(description="The service that refused")
    denied_at: datetime
