"""Finance: ledger postings and summaries. Money is Decimal, never float."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import Field

from . import subjects
from .ids import MONTH_PATTERN
from .messages import Actor, Command, Event, Query, View


class PostingLine(View):
    account: str
    debit: Decimal = Decimal("0")
    credit: Decimal = Decimal("0")


class LedgerEntryPosted(Event):
    SUBJECT = subjects.FINANCE_ENTRY_POSTED

    entry_id: str
    posted_at: datetime
    period: str = Field(pattern=MONTH_PATTERN)
    penalty_id: str | None = None
    incident_id: str | None = None
    supplier: str | None = None
    service: str
    amount: Decimal
    currency: str
    lines: list[PostingLine]
    causation_id: str
    kind: str = Field(default="penalty", description="penalty or incident_cost")
    causation_type: str | None = None
    correlation_id: str | None = None
    original_period: str | None = Field(
        default=None, description="The closed month this entry belongs to, when it was "
                                  "posted to the next open month instead")
    reference: str | None = None
    memo: str | None = None


class GetFinanceSummary(Query):
    SUBJECT = subjects.FINANCE_QUERY_SUMMARY

    actor: Actor = ""  # set by the answering service to the proven principal

    month: str = Field(pattern=MONTH_PATTERN)


class SummaryLine(View):
    supplier: str
    service: str
    currency: str
    amount: Decimal
    entries: int


class FinanceSummary(View):
    month: str
    lines: list[SummaryLine] = Field(description="Penalties by supplier and service")
    totals: dict[str, Decimal] = Field(description="Penalties by currency")
    entries: int = Field(description="Penalty entries")
    budgets: list[BudgetLine] = Field(default_factory=list)
    penalties_by_supplier: list[PenaltyTotal] = Field(default_factory=list)
    penalties_by_service: list[PenaltyTotal] = Field(default_factory=list)
    incident_cost_by_service: list[IncidentCostLine] = Field(default_factory=list)
    top_incidents: list[CostlyIncident] = Field(default_factory=list)
    late_entries: int = Field(default=0, description="Entries for closed months posted here")


class ListLedgerEntries(Query):
    SUBJECT = subjects.FINANCE_QUERY_ENTRIES

    actor: Actor = ""  # answered with what the actor's roles cover
    month: str | None = Field(default=None, pattern=MONTH_PATTERN)
    incident_id: str | None = None
    limit: int = Field(default=100, ge=1, le=1000)
    offset: int = Field(default=0, ge=0, description="Skip this many (newest first)")


class LedgerEntryList(View):
    items: list[LedgerEntryPosted]
    total: int | None = Field(default=None, description="Matches before offset and limit")
    offset: int = 0


class PeriodClosed(Event):
    SUBJECT = subjects.FINANCE_PERIOD_CLOSED

    month: str = Field(pattern=MONTH_PATTERN)
    closed_at: datetime
    actor: str


class ClosePeriod(Command):
    """Close an accounting month: later postings for it go to the next open month."""

    SUBJECT = subjects.FINANCE_CMD_CLOSE_PERIOD

    month: str = Field(pattern=MONTH_PATTERN)
    actor: Actor = ""


class PeriodView(View):
    month: str
    state: str = Field(description="open or closed")
    closed_at: datetime | None = None
    closed_by: str | None = None
    entries: int = 0


class ListPeriods(Query):
    SUBJECT = subjects.FINANCE_QUERY_PERIODS

    actor: Actor = ""  # set by the answering service to the proven principal


class PeriodList(View):
    items: list[PeriodView]


class TraceEntry(Query):
    SUBJECT = subjects.FINANCE_QUERY_TRACE

    actor: Actor = ""  # answered with what the actor's roles cover
    entry_id: str = Field(min_length=1, max_length=64)


class EntryTrace(View):
    """A ledger entry and the chain of messages that produced it."""

    entry: LedgerEntryPosted
    causation_id: str
    causation_type: str | None = None
    correlation_id: str | None = None
    origin: str = Field(description="What happened, in one line")
    related: list[str] = Field(default_factory=list,
                               description="Other entries of the same incident")


class GetBudgets(Query):
    SUBJECT = subjects.FINANCE_QUERY_BUDGETS

    actor: Actor = ""  # set by the answering service to the proven principal

    month: str = Field(pattern=MONTH_PATTERN)


class BudgetLine(View):
    scope: str = Field(description="service or cost_centre")
    name: str
    currency: str
    budget: Decimal
    actual: Decimal
    variance: Decimal = Field(description="budget - actual; negative when over budget")


class BudgetList(View):
    month: str
    items: list[BudgetLine]


class PenaltyTotal(View):
    name: str
    currency: str
    amount: Decimal
    entries: int


class IncidentCostLine(View):
    service: str
    currency: str
    downtime: Decimal
    effort: Decimal
    total: Decimal
    incidents: int


class CostlyIncident(View):
    incident_id: str
    service: str
    currency: str
    amount: Decimal
    entry_id: str


class GetIncidentCost(Query):
    """What an incident costs, booked or not: its service's downtime (by tier) and the
    responders' effort, to its resolution, or to now while it is open."""

    SUBJECT = subjects.FINANCE_QUERY_INCIDENT_COST

    actor: Actor = ""  # set by the answering service to the proven principal

    incident_id: str = Field(min_length=1, max_length=32)


class IncidentCostView(View):
    incident_id: str
    service: str
    currency: str
    downtime: Decimal
    effort: Decimal
    total: Decimal
    memo: str = Field(description="How it was reckoned: minutes, rates, responders")
    until: datetime = Field(description="Its resolution, or now while it is not resolved")
    resolved: bool
    booked_entry_id: str | None = Field(
        default=None, description="The ledger entry of its cost, booked when it closed")

