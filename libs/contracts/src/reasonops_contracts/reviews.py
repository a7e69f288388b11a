"""Post-incident reviews: what a major incident's workflow recorded when it resolved,
read back (the record itself is announced by ``workflows.PostIncidentReviewRecorded``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field, JsonValue

from . import subjects
from .incidents.queries import TimelineEntry
from .messages import Actor, Query, View


class GetPostIncidentReview(Query):
    """The post-incident review of a major incident: by ``workflow_id``, or the newest
    of an incident's (``incident_id``). Read by whoever may read the incident."""

    SUBJECT = subjects.WORKFLOW_QUERY_REVIEW

    actor: Actor = ""  # set by the answering service to the proven principal

    incident_id: str | None = Field(default=None, max_length=32)
    workflow_id: str | None = Field(default=None, max_length=160)


class ReviewedClock(View):
    """An SLA clock as the review found it when the incident was resolved."""

    kind: str | None = None
    agreement: str | None = None
    state: str | None = None
    elapsed_seconds: float | None = None
    target_seconds: float | None = None


class PostIncidentReviewView(View):
    """What the ``review`` step recorded: the incident's timeline, each agent step's
    decision, the SLA clocks and the cost booked, each read from the service that owns
    it when the review ran; ``missing`` names what could not be read then."""

    workflow_id: str
    incident_id: str | None = None
    title: str | None = None
    recorded_at: datetime
    timeline: list[TimelineEntry] = Field(default_factory=list)
    decisions: dict[str, JsonValue] = Field(
        default_factory=dict, description="Each agent step's decision, by step")
    sla: list[ReviewedClock] = Field(default_factory=list)
    cost: dict[str, str] = Field(
        default_factory=dict, description="By currency: what its resolution cost (downtime "
        "and effort, booked when it closes) and the penalties booked by then")
    cost_detail: str | None = Field(default=None,
                                    description="How its own cost was reckoned")
    missing: list[str] = Field(default_factory=list)
