"""Incidents: the commands that open and change them."""

from __future__ import annotations

from pydantic import Field

from .. import subjects
from ..messages import Actor, Command
from .fields import INCIDENT_ID_PATTERN, Link, Said


class CreateIncident(Command):
    """Open an incident by hand, as a service desk does for a call: priority from the
    ITIL matrix of impact and urgency; then the same lifecycle, SLA clocks, triage and
    workflows as an incident opened from monitoring. Takes ``incident.create``."""

    SUBJECT = subjects.INCIDENT_CMD_CREATE

    actor: Actor = ""
    title: str = Field(min_length=1, max_length=512)
    description: str | None = Field(default=None, max_length=8192)
    service: str | None = Field(default=None, min_length=1, max_length=256)
    resource: str | None = Field(default=None, max_length=256)
    category: str | None = Field(default=None, max_length=64)
    impact: int = Field(default=3, ge=1, le=3, description="1 (widespread) .. 3")
    urgency: int = Field(default=3, ge=1, le=3, description="1 (now) .. 3")
    caller: str | None = Field(default=None, max_length=256,
                               description="Who reported it")
    assignment_group: str | None = Field(default=None, min_length=1, max_length=128,
                                         description="Default: the service's owner")
    attachments: list[Link] = Field(default_factory=list, max_length=20, description=(
        "Links (http or https) to screenshots, logs, documents"))


class _IncidentCommand(Command):
    incident_id: str = Field(pattern=INCIDENT_ID_PATTERN)
    actor: Actor = ""
    note: str | None = Field(default=None, max_length=4096)


class AcknowledgeIncident(_IncidentCommand):
    SUBJECT = subjects.INCIDENT_CMD_ACKNOWLEDGE


class ResolveIncident(_IncidentCommand):
    SUBJECT = subjects.INCIDENT_CMD_RESOLVE


class CloseIncident(_IncidentCommand):
    SUBJECT = subjects.INCIDENT_CMD_CLOSE


class ReopenIncident(_IncidentCommand):
    SUBJECT = subjects.INCIDENT_CMD_REOPEN


class HoldIncident(_IncidentCommand):
    """Put the incident on hold; ``note`` carries the reason (e.g. awaiting_supplier)."""

    SUBJECT = subjects.INCIDENT_CMD_HOLD


class ResumeIncident(_IncidentCommand):
    SUBJECT = subjects.INCIDENT_CMD_RESUME


class AssignIncident(_IncidentCommand):
    """Assign to a group by hand (highest precedence); ``note`` is the reason."""

    SUBJECT = subjects.INCIDENT_CMD_ASSIGN

    assignment_group: str = Field(min_length=1, max_length=128)


class ChangeIncidentPriority(_IncidentCommand):
    """Reassess impact and urgency by hand; the priority follows the ITIL matrix and
    ``note`` is the reason, kept on the timeline. Takes ``incident.change_priority``."""

    SUBJECT = subjects.INCIDENT_CMD_CHANGE_PRIORITY

    impact: int = Field(ge=1, le=3)
    urgency: int = Field(ge=1, le=3)
    note: str = Field(min_length=1, max_length=4096, description="Why")


class CommentIncident(_IncidentCommand):
    """Add a comment to the timeline; ``note`` is the comment."""

    SUBJECT = subjects.INCIDENT_CMD_COMMENT

    note: Said = Field(min_length=1, max_length=4096)


class DeclareMajorIncident(_IncidentCommand):
    SUBJECT = subjects.INCIDENT_CMD_DECLARE_MAJOR
