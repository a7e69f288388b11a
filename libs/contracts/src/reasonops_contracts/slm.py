"""Service level management: SLA clocks, breaches and supplier penalties."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import Field

from . import subjects
from .incidents import INCIDENT_ID_PATTERN
from .messages import Event, Query, View

ClockKind = Literal["response", "resolution"]
ClockState = Literal["running", "met", "breached", "cancelled"]


class SlaStarted(Event):
    TYPE = "itsm.slm.sla.started.v1"
    SUBJECT = subjects.SLA_STARTED

    clock_id: str
    incident_id: str
    policy: str
    kind: ClockKind
    priority: int
    service: str | None = None
    target_seconds: int
    started_at: datetime
    deadline: datetime


class SlaMet(Event):
    TYPE = "itsm.slm.sla.met.v1"
    SUBJECT = subjects.SLA_MET

    clock_id: str
    incident_id: str
    kind: ClockKind
    stopped_at: datetime
    elapsed_seconds: float
    target_seconds: int


class SlaBreached(Event):
    TYPE = "itsm.slm.sla.breached.v1"
    SUBJECT = subjects.SLA_BREACHED

    clock_id: str
    incident_id: str
    policy: str
    kind: ClockKind
    priority: int
    service: str | None = None
    target_seconds: int
    deadline: datetime
    breached_at: datetime


class PenaltyAssessed(Event):
    TYPE = "itsm.slm.penalty.assessed.v1"
    SUBJECT = subjects.PENALTY_ASSESSED

    penalty_id: str
    incident_id: str
    clock_id: str
    contract_id: str
    supplier: str
    service: str
    priority: int
    kind: ClockKind
    amount: Decimal = Field(ge=0, decimal_places=2)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    assessed_at: datetime
    reason: str


class GetSlaStatus(Query):
    SUBJECT = subjects.SLM_QUERY_STATUS

    incident_id: str = Field(pattern=INCIDENT_ID_PATTERN)


class SlaClockView(View):
    clock_id: str
    kind: ClockKind
    policy: str
    state: ClockState
    priority: int
    target_seconds: int
    started_at: datetime
    deadline: datetime
    stopped_at: datetime | None = None
    elapsed_seconds: float
    remaining_seconds: float
    percent_consumed: float


class SlaStatus(View):
    incident_id: str
    clocks: list[SlaClockView]
    penalties: list[PenaltyAssessed] = Field(default_factory=list)
