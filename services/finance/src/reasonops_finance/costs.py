"""What an incident cost: downtime by service tier plus responders' effort. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from reasonops_contracts.money import round_money

from .config import CostRates

SECONDS_PER_MINUTE = Decimal(60)
SECONDS_PER_HOUR = Decimal(3600)


@dataclass(frozen=True)
class IncidentCost:
    downtime: Decimal
    effort: Decimal
    memo: str

    @property
    def total(self) -> Decimal:
        return self.downtime + self.effort


def incident_cost(*, rates: CostRates, tier: int, priority: int, opened_at: datetime,
                  acknowledged_at: datetime | None, resolved_at: datetime,
                  reported_at: datetime | None = None) -> IncidentCost:
    """Downtime (``opened_at``, when its first alert began, to resolution, per minute at
    the tier's rate) plus effort (acknowledgement, or the incident's opening,
    ``reported_at``, to resolution, times the priority's responders at the hourly rate),
    each rounded to the currency's minor unit. Nobody works an incident before it is
    opened: an alert that had been firing for days when it came in is days of downtime,
    not days of effort."""
    down = Decimal(max(0, int((resolved_at - opened_at).total_seconds())))
    started = acknowledged_at or max(opened_at, reported_at or opened_at)
    worked = Decimal(max(0, int((resolved_at - started).total_seconds())))
    per_minute = rates.downtime_per_minute.get(tier, Decimal(0))
    people = rates.responders.get(priority, 1)
    downtime = round_money(down / SECONDS_PER_MINUTE * per_minute, rates.currency)
    effort = round_money(worked / SECONDS_PER_HOUR * people * rates.hourly_rate, rates.currency)
    memo = (f"downtime {down / SECONDS_PER_MINUTE:.2f} min x {per_minute} (tier {tier}) = "
            f"{downtime}; effort {worked / SECONDS_PER_HOUR:.2f} h x {people} responder(s) x "
            f"{rates.hourly_rate} = {effort} {rates.currency}")
    return IncidentCost(downtime, effort, memo)
