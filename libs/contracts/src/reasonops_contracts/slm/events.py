"""Service level management: clocks started, met, at risk, paused and breached; penalties
assessed and months closed, as events."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import Field

from .. import subjects
from ..ids import MONTH_PATTERN
from ..messages import Event, View
from .fields import Agreement, ClockKind, PenaltyClause, PenaltyKind


class SlaStarted(Event):
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
    agreement: Agreement = "sla"
    party: str | None = Field(default=None, description="OLA group or UC supplier")


class SlaMet(Event):
    SUBJECT = subjects.SLA_MET

    clock_id: str
    incident_id: str
    kind: ClockKind
    stopped_at: datetime
    elapsed_seconds: float
    target_seconds: int
    agreement: Agreement = "sla"
    party: str | None = Field(default=None, description="OLA group or UC supplier")


class SlaBreached(Event):
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
    agreement: Agreement = "sla"
    party: str | None = Field(default=None, description="OLA group or UC supplier")


class PenaltyAssessed(Event):
    SUBJECT = subjects.PENALTY_ASSESSED

    penalty_id: str
    incident_id: str | None = Field(default=None,
                                    description="None for a month's availability credit")
    clock_id: str
    contract_id: str
    supplier: str
    service: str
    priority: int
    kind: PenaltyKind
    amount: Decimal = Field(ge=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    assessed_at: datetime
    reason: str
    clause: PenaltyClause = "per_breach"


class SlaAtRisk(Event):
    """A running clock has used ``percent`` of its target (50, 75, 90)."""

    SUBJECT = subjects.SLA_AT_RISK

    clock_id: str
    incident_id: str
    kind: ClockKind
    agreement: Agreement = "sla"
    party: str | None = None
    priority: int
    service: str | None = None
    percent: int
    elapsed_seconds: float
    remaining_seconds: float
    deadline: datetime
    at: datetime


class SlaPaused(Event):
    SUBJECT = subjects.SLA_PAUSED

    clock_id: str
    incident_id: str
    kind: ClockKind
    agreement: Agreement = "sla"
    paused_at: datetime
    reason: str
    elapsed_seconds: float


class SlaResumed(Event):
    SUBJECT = subjects.SLA_RESUMED

    clock_id: str
    incident_id: str
    kind: ClockKind
    agreement: Agreement = "sla"
    resumed_at: datetime
    paused_seconds: float = Field(description="Working seconds paused so far, in total")
    deadline: datetime


class ServiceMonthView(View):
    service: str
    month: str
    period_seconds: int
    maintenance_seconds: int
    downtime_seconds: int = Field(description="Weighted by impact, maintenance excluded")
    availability: Decimal = Field(description="Percent")
    slo: Decimal
    error_budget_seconds: int
    error_budget_remaining_seconds: int
    error_budget_remaining_percent: Decimal
    incidents: int
    mtta_seconds: int | None = None
    mttr_seconds: int | None = None
    mtbf_seconds: int | None = None
    breaches: int


class MonthAssessed(Event):
    """A month ended: its service figures, as the availability credits were assessed on."""

    SUBJECT = subjects.SLM_MONTH_ASSESSED

    month: str = Field(pattern=MONTH_PATTERN)
    services: list[ServiceMonthView]
    assessed_at: datetime
