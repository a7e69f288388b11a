from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from reasonops_finance.domain import (
    INCOME,
    Line,
    PostingError,
    check_balanced,
    penalty_entry,
    period_of,
    summarise,
)

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def entry(amount=Decimal("500.00"), assessed_at=AT, supplier="Acme Hosting"):
    return penalty_entry(entry_id="E1", penalty_id="PEN-1", incident_id="INC0000001",
                         supplier=supplier, service="checkout", amount=amount, currency="EUR",
                         assessed_at=assessed_at, posted_at=AT, causation_id="M1")


def test_penalty_debits_the_supplier_and_credits_income():
    posted = entry()
    assert [(ln.account, ln.debit, ln.credit) for ln in posted.lines] == [
        ("supplier-credits-receivable:Acme Hosting", Decimal("500.00"), Decimal("0.00")),
        (INCOME, Decimal("0.00"), Decimal("500.00")),
    ]


def test_entry_is_balanced_and_exact():
    posted = entry(Decimal("0.10") + Decimal("0.20"))
    assert sum(ln.debit for ln in posted.lines) == sum(ln.credit for ln in posted.lines)
    assert posted.amount == Decimal("0.30")
    assert all(isinstance(v, Decimal) for ln in posted.lines for v in (ln.debit, ln.credit))


def test_whole_amounts_are_kept_in_cents():
    assert str(entry(Decimal("7")).amount) == "7.00"


@pytest.mark.parametrize("amount", [500.0, Decimal("1.005"), Decimal("NaN"), Decimal("0"),
                                    Decimal("-1.00")])
def test_refuses_floats_fractions_of_a_cent_and_non_positive(amount):
    with pytest.raises(PostingError):
        entry(amount)


def test_period_is_the_utc_month_of_assessment():
    late_evening = datetime(2026, 11, 30, 23, 30, tzinfo=timezone(timedelta(hours=-2)))
    assert period_of(late_evening) == "2026-12"
    assert entry(assessed_at=late_evening).period == "2026-12"


def test_period_refuses_naive_times():
    with pytest.raises(PostingError, match="naive"):
        period_of(datetime(2026, 11, 2))


@pytest.mark.parametrize("lines", [
    [Line("a", debit=Decimal("1.00")), Line("b", credit=Decimal("2.00"))],
    [Line("a", debit=Decimal("1.00"), credit=Decimal("1.00")), Line("b")],
    [Line("a", debit=Decimal("-1.00")), Line("b", credit=Decimal("-1.00"))],
    [Line("a", debit=Decimal("1.00"))],
])
def test_unbalanced_or_malformed_lines_are_refused(lines):
    with pytest.raises(PostingError):
        check_balanced(lines)


def test_summary_totals_by_supplier_service_and_currency():
    rows, totals, count = summarise([
        ("Acme Hosting", "checkout", "EUR", Decimal("500.00")),
        ("Acme Hosting", "checkout", "EUR", Decimal("0.10")),
        ("Acme Hosting", "search", "EUR", Decimal("0.20")),
        ("Bits Ltd", "search", "GBP", Decimal("5.00")),
    ])
    assert [(r.supplier, r.service, r.currency, r.amount, r.entries) for r in rows] == [
        ("Acme Hosting", "checkout", "EUR", Decimal("500.10"), 2),
        ("Acme Hosting", "search", "EUR", Decimal("0.20"), 1),
        ("Bits Ltd", "search", "GBP", Decimal("5.00"), 1),
    ]
    assert totals == {"EUR": Decimal("500.30"), "GBP": Decimal("5.00")}
    assert count == 4


def test_empty_summary():
    assert summarise([]) == ([], {}, 0)
