"""Incidents: the correlation rules in force, as a query answers them."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from .. import subjects
from ..messages import Actor, Query, View


class GetCorrelationRules(Query):
    SUBJECT = subjects.INCIDENT_QUERY_RULES

    actor: Actor = ""  # set by the answering service to the proven principal


class RuleView(View):
    name: str
    match: list[str]
    group_by: list[str]
    window_seconds: int
    create_on: str
    resolve_on: str
    assign_to: str | None = None


class CorrelationRulesView(View):
    path: str | None = Field(description="The rule file, None for the built-in default")
    loaded_at: datetime | None = None
    rules: list[RuleView]
    assignment_precedence: list[str]
    escalation_policies: dict[str, list[str]]
    error: str | None = Field(default=None,
                              description="Why the file on disk was refused; older rules apply")
