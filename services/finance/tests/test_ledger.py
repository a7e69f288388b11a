"""Incident cost, currency minor units, closed periods, the monthly summary."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from reasonops_finance.config import Budget, ConfigError, CostRates, parse
from reasonops_finance.costs import incident_cost
from reasonops_finance.domain import (
    ACCRUED,
    PostingError,
    cents,
    cost_entry,
    penalty_entry,
    posting_period,
)
from reasonops_finance.summary import finance_summary

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
RATES = CostRates(currency="EUR", downtime_per_minute={1: Decimal("250.00"),
                                                       3: Decimal("20.00")},
                  hourly_rate=Decimal("95.00"), responders={1: 4, 3: 2},
                  cost_centres={"checkout": "CC-SHOP", "auth": "CC-SHOP"},
                  budgets=(Budget("service", "checkout", "2026-03", Decimal("30000.00")),
                           Budget("cost_centre", "CC-SHOP", "2026-03", Decimal("40000.00"))))


def test_incident_cost_is_downtime_by_tier_plus_effort():
    cost = incident_cost(rates=RATES, tier=1, priority=1, opened_at=T0,
                         acknowledged_at=T0 + timedelta(minutes=10),
                         resolved_at=T0 + timedelta(minutes=90))
    # 90 min x 250 = 22500; 80 min = 1.3333 h x 4 x 95 = 506.666.. -> 506.67
    assert (cost.downtime, cost.effort, cost.total) == (
        Decimal("22500.00"), Decimal("506.67"), Decimal("23006.67"))


def test_unacknowledged_effort_counts_from_opening_and_unknown_tier_costs_no_downtime():
    cost = incident_cost(rates=RATES, tier=2, priority=3, opened_at=T0, acknowledged_at=None,
                         resolved_at=T0 + timedelta(minutes=30))
    assert (cost.downtime, cost.effort) == (Decimal("0.00"), Decimal("95.00"))


def test_effort_counts_from_the_incidents_opening_not_its_first_alerts_start():
    """An alert firing for two days when it came in: two days of downtime, and the
    responders' effort from the incident's opening (or their acknowledgement)."""
    began, opened = T0 - timedelta(days=2), T0
    cost = incident_cost(rates=RATES, tier=3, priority=3, opened_at=began,
                         acknowledged_at=None, resolved_at=T0 + timedelta(minutes=30),
                         reported_at=opened)
    # downtime 2 d 30 min = 2910 min x 20 = 58200; effort 0.5 h x 2 x 95 = 95
    assert (cost.downtime, cost.effort) == (Decimal("58200.00"), Decimal("95.00"))
    acked = incident_cost(rates=RATES, tier=3, priority=3, opened_at=began,
                          acknowledged_at=T0 + timedelta(minutes=15),
                          resolved_at=T0 + timedelta(minutes=30), reported_at=opened)
    assert acked.effort == Decimal("47.50")
    # an incident followed before reported_at was kept: from its opening as known
    before = incident_cost(rates=RATES, tier=3, priority=3, opened_at=began,
                           acknowledged_at=None, resolved_at=T0 + timedelta(minutes=30))
    assert before.effort == Decimal("9215.00")  # 48.5 h x 2 x 95


def test_cost_entry_is_balanced_with_expense_per_service():
    entry = cost_entry(entry_id="E", incident_id="INC1", service="checkout",
                       downtime=Decimal("100.00"), effort=Decimal("5.50"), currency="EUR",
                       closed_at=T0, posted_at=T0, causation_id="M", memo="m")
    assert [(ln.account, ln.debit, ln.credit) for ln in entry.lines] == [
        ("incident-downtime-expense:checkout", Decimal("100.00"), Decimal("0.00")),
        ("incident-effort-expense:checkout", Decimal("5.50"), Decimal("0.00")),
        (ACCRUED, Decimal("0.00"), Decimal("105.50"))]
    assert (entry.kind, entry.key(), entry.period) == ("incident_cost", "COST-INC1", "2026-03")


@pytest.mark.parametrize(("amount", "currency", "ok"), [
    ("100", "JPY", True), ("100.5", "JPY", False), ("1.234", "KWD", True),
    ("1.2345", "KWD", False), ("1.23", "EUR", True), ("1.235", "EUR", False)])
def test_amounts_must_fit_the_currency_minor_unit(amount, currency, ok):
    if ok:
        assert cents(Decimal(amount), currency) == Decimal(amount)
    else:
        with pytest.raises(PostingError, match="minor unit"):
            cents(Decimal(amount), currency)


def test_yen_penalty_is_booked_without_decimals():
    entry = penalty_entry(entry_id="E", penalty_id="P", incident_id="I", supplier="S",
                          service="x", amount=Decimal("5000"), currency="JPY",
                          assessed_at=T0, posted_at=T0, causation_id="M")
    assert str(entry.amount) == "5000"


def test_closed_period_posts_to_the_next_open_month_with_a_reference():
    assert posting_period("2026-03", set()) == ("2026-03", None)
    assert posting_period("2026-03", {"2026-03"}) == ("2026-04", "2026-03")
    assert posting_period("2026-12", {"2026-12", "2027-01"}) == ("2027-02", "2026-12")
    assert posting_period("2026-03", {"2026-04"}) == ("2026-03", None)


def _cost(incident, service, amount):
    return cost_entry(entry_id=f"E-{incident}", incident_id=incident, service=service,
                      downtime=Decimal(amount), effort=Decimal("0.00"), currency="EUR",
                      closed_at=T0, posted_at=T0, causation_id="M", memo="m")


def test_summary_budget_actual_variance_and_top_five():
    costs = [_cost(f"INC{i}", "checkout" if i % 2 else "auth", f"{i}000.00")
             for i in range(1, 8)]
    pen = penalty_entry(entry_id="EP", penalty_id="PEN-1", incident_id="INC1",
                        supplier="Acme", service="checkout", amount=Decimal("500.00"),
                        currency="EUR", assessed_at=T0, posted_at=T0, causation_id="M")
    s = finance_summary("2026-03", [*costs, pen], RATES)
    checkout = 1000 + 3000 + 5000 + 7000
    assert [(b.scope, b.name, b.budget, b.actual, b.variance) for b in s.budgets] == [
        ("cost_centre", "CC-SHOP", Decimal("40000.00"), Decimal("28000.00"),
         Decimal("12000.00")),
        ("service", "checkout", Decimal("30000.00"), Decimal(checkout),
         Decimal(30000 - checkout))]
    assert [i.incident_id for i in s.top_incidents] == ["INC7", "INC6", "INC5", "INC4", "INC3"]
    assert [(p.name, p.amount) for p in s.penalties_by_supplier] == [("Acme",
                                                                      Decimal("500.00"))]
    assert [(c.service, c.total, c.incidents) for c in s.incident_cost_by_service] == [
        ("auth", Decimal("12000.00"), 3), ("checkout", Decimal(checkout), 4)]
    assert s.totals == {"EUR": Decimal("500.00")}


def test_config_errors_name_the_key():
    with pytest.raises(ConfigError, match=r"budgets\[0\]\.month"):
        parse({"budgets": [{"service": "x", "month": "March", "amount": "1"}]}, file="f")
    with pytest.raises(ConfigError, match="more than 0 decimal places"):
        parse({"currency": "JPY", "responder_hourly_rate": "9.5"}, file="f")
    with pytest.raises(ConfigError, match="unknown key"):
        parse({"budget": []}, file="f")
