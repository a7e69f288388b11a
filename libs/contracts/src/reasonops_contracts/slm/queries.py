"""Service level management: the queries that read clocks, months, policies and supplier
contracts, and the views they answer with."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import Field, model_validator

from .. import subjects
from ..ids import MONTH_PATTERN
from ..incidents import INCIDENT_ID_PATTERN
from ..messages import Actor, Query, View
from .events import PenaltyAssessed, ServiceMonthView
from .fields import Agreement, AtRiskPercent, Attention, ClockKind, ClockState


class GetSlaStatus(Query):
    SUBJECT = subjects.SLM_QUERY_STATUS

    actor: Actor = ""  # answered with what the actor's roles cover
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
    agreement: Agreement = "sla"
    party: str | None = None
    schedule: str = "24x7"
    paused: bool = False
    paused_seconds: float = 0.0


class SlaStatus(View):
    incident_id: str
    clocks: list[SlaClockView]
    penalties: list[PenaltyAssessed] = Field(default_factory=list)


class GetSlaReport(Query):
    SUBJECT = subjects.SLM_QUERY_REPORT

    actor: Actor = ""  # answered with what the actor's roles cover
    month: str | None = Field(default=None, pattern=MONTH_PATTERN,
                              description="A calendar month (UTC)")
    period_days: int | None = Field(default=None, ge=1, le=366, description=(
        "Instead of a month: the last N days up to now"))
    service: str | None = None

    @model_validator(mode="after")
    def _one_period(self) -> GetSlaReport:
        if (self.month is None) == (self.period_days is None):
            raise ValueError("month or period_days: give exactly one of them")
        return self


class SlaReport(View):
    month: str = Field(description="The month, or 'last-<N>d' for a period of N days")
    services: list[ServiceMonthView]
    penalties: list[PenaltyAssessed] = Field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = Field(default=None, description="Now, for an unfinished period")


class ListSupplierContracts(Query):
    """The supplier contracts in force (underpinning contracts and their penalties), of
    the services the actor's roles cover."""

    SUBJECT = subjects.SLM_QUERY_CONTRACTS

    actor: Actor = ""  # answered with what the actor's roles cover


class CreditTierView(View):
    below: Decimal = Field(description="Availability % under which the credit applies")
    percent: Decimal = Field(description="Credit, % of the monthly fee")


class SupplierContractView(View):
    contract_id: str
    supplier: str
    services: list[str]
    currency: str
    penalty_per_breach: dict[str, Decimal] = Field(description="P1..P5 -> amount")
    penalty_per_hour: dict[str, Decimal] = Field(default_factory=dict, description=(
        "P1..P5 -> amount per started hour beyond the target"))
    monthly_fee: Decimal | None = None
    monthly_cap: Decimal | None = None
    availability_credits: list[CreditTierView] = Field(default_factory=list)
    underpinning: bool = Field(description="True: penalties follow the contract's own "
                               "targets (a UC); False: the customer SLA's")


class SupplierContractList(View):
    items: list[SupplierContractView]


class ListSlaClocks(Query):
    """The clocks that need someone now, of the services the actor's roles cover,
    earliest deadline first: ``at_risk`` (running, announced at risk at
    ``at_risk_percent`` of the target or later), ``breached`` (past the target, its
    incident not yet acknowledged or resolved) or every ``running`` one."""

    SUBJECT = subjects.SLM_QUERY_CLOCKS

    actor: Actor = ""  # answered with what the actor's roles cover
    attention: Attention = "at_risk"
    at_risk_percent: AtRiskPercent = 75
    service: str | None = Field(default=None, min_length=1, max_length=256)
    limit: int = Field(default=100, ge=1, le=1000)


class OpenClockView(SlaClockView):
    incident_id: str
    service: str | None = None


class SlaClockList(View):
    items: list[OpenClockView]
    total: int = Field(description="Clocks that match, over the limit too")


class ListSlaPolicies(Query):
    """The SLA definitions in force (per priority, and a service's own where it has
    them) and the assignment groups' OLAs."""

    SUBJECT = subjects.SLM_QUERY_POLICIES

    actor: Actor = ""
    service: str | None = Field(default=None, min_length=1, max_length=256, description=(
        "Only what applies to this service: its own definitions, else the defaults"))


class SlaPolicyView(View):
    name: str
    agreement: Literal["sla", "ola"]
    priority: int
    service: str | None = Field(description="None: the default for the priority")
    group: str | None = Field(default=None, description="An OLA's assignment group")
    response_seconds: int
    resolution_seconds: int
    schedule: str = Field(description="The working-time calendar the clocks count on")
    pause_on: list[str] = Field(description="Hold reasons that pause the clocks; * any")
    retroactive: bool = Field(description="Clocks start at the first alert, not opening")


class SlaPolicyList(View):
    items: list[SlaPolicyView]
