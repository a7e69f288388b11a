"""Problems: the recurring causes behind incidents, their events, commands and queries."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from .. import subjects
from ..messages import Actor, Command, Event, Query, View
from .queries import TimelineEntry

ProblemState = Literal["new", "investigating", "known_error", "resolved"]
PROBLEM_ID_PATTERN = r"^PRB\d{7,}$"


class ProblemOpened(Event):
    SUBJECT = subjects.PROBLEM_OPENED

    problem_id: str
    title: str
    group_key: str
    service: str | None = None
    incident_ids: list[str]
    opened_at: datetime
    reason: str


class ProblemUpdated(Event):
    SUBJECT = subjects.PROBLEM_UPDATED

    problem_id: str
    state: ProblemState
    previous_state: ProblemState
    workaround: str | None = None
    updated_at: datetime
    actor: str
    note: str | None = None


class UpdateProblem(Command):
    """Move a problem on: investigating, known_error (needs a workaround), resolved."""

    SUBJECT = subjects.PROBLEM_CMD_UPDATE

    problem_id: str = Field(pattern=PROBLEM_ID_PATTERN)
    state: ProblemState
    workaround: str | None = Field(default=None, max_length=8192)
    actor: Actor = ""
    note: str | None = Field(default=None, max_length=4096)


class ListProblems(Query):
    SUBJECT = subjects.PROBLEM_QUERY_LIST

    actor: Actor = ""  # set by the answering service to the proven principal

    states: list[ProblemState] | None = None
    limit: int = Field(default=100, ge=1, le=1000)


class GetProblem(Query):
    SUBJECT = subjects.PROBLEM_QUERY_GET

    actor: Actor = ""  # set by the answering service to the proven principal

    problem_id: str = Field(pattern=PROBLEM_ID_PATTERN)


class ProblemView(View):
    problem_id: str
    title: str
    state: ProblemState
    group_key: str
    service: str | None = None
    workaround: str | None = None
    opened_at: datetime
    updated_at: datetime
    resolved_at: datetime | None = None
    incident_ids: list[str] = Field(default_factory=list)
    history: list[TimelineEntry] = Field(default_factory=list)


class ProblemList(View):
    items: list[ProblemView]
