"""Every penalty clause: flat per breach, per started hour, availability tiers, the cap."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from reasonops_contracts.money import minor_unit, quantum, round_money
from reasonops_slm.domain import SlaPolicy, start_clock
from reasonops_slm.penalties import (
    CreditTier,
    SupplierContract,
    assess_availability,
    assess_overrun,
    assess_penalty,
    capped,
    credit_percent,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
P1 = SlaPolicy("P1", 1, 900, 4 * 3600)
ACME = SupplierContract(
    contract_id="ACME", supplier="Acme", services=frozenset({"checkout"}), currency="EUR",
    penalties={1: Decimal("500.00")}, per_hour={1: Decimal("120.00")},
    monthly_fee=Decimal("12345.67"),
    credits=(CreditTier(Decimal("99.9"), Decimal("10")), CreditTier(Decimal("99.0"),
                                                                    Decimal("25"))),
    monthly_cap=Decimal("2000.00"))


def breached(stop_after: timedelta):
    c = start_clock(incident_id="INC0000001", kind="resolution", generation=1, policy=P1,
                    service="checkout", started_at=T0)
    c.breach(c.deadline)
    c.stop(c.deadline + stop_after)
    return c


def test_flat_per_breach_by_priority():
    p = assess_penalty(breached(timedelta(0)), [ACME], T0)
    assert p is not None
    assert (p.amount, p.clause, p.penalty_id) == (Decimal("500.00"), "per_breach",
                                                  "PEN-INC0000001-resolution-1")


@pytest.mark.parametrize(("over", "hours"), [(timedelta(seconds=1), 1), (timedelta(hours=1), 1),
                                             (timedelta(hours=1, seconds=1), 2),
                                             (timedelta(hours=3, minutes=5), 4)])
def test_per_started_hour_beyond_target(over, hours):
    p = assess_overrun(breached(over), [ACME], T0)
    assert p is not None
    assert p.amount == Decimal("120.00") * hours
    assert p.clause == "per_hour"
    assert p.penalty_id == "PENH-INC0000001-resolution-1"


def test_no_overrun_penalty_for_a_clock_stopped_at_the_deadline():
    assert assess_overrun(breached(timedelta(0)), [ACME], T0) is None


@pytest.mark.parametrize(("availability", "percent"), [
    ("100", "0"), ("99.95", "0"), ("99.9", "0"), ("99.8999", "10"), ("99.0", "10"),
    ("98.99", "25"), ("50", "25")])
def test_availability_tiers_worst_reached_applies(availability, percent):
    assert credit_percent(ACME, Decimal(availability)) == Decimal(percent)


def test_availability_credit_is_a_share_of_the_fee_rounded_to_cents():
    p = assess_availability(ACME, "checkout", "2026-03", Decimal("99.5"), T0)
    assert p is not None
    # 10% of 12345.67 = 1234.567 -> 1234.57 (half up)
    assert (p.amount, p.clause, p.kind) == (Decimal("1234.57"), "availability",
                                            "availability")
    assert p.incident_id is None
    assert p.penalty_id == "PENA-ACME-checkout-2026-03"


def test_cap_limits_what_a_month_can_cost():
    assert capped(Decimal("500"), Decimal("1800"), Decimal("2000")) == Decimal("200")
    assert capped(Decimal("500"), Decimal("2000"), Decimal("2000")) == Decimal("0")
    assert capped(Decimal("500"), Decimal("9999"), None) == Decimal("500")
    p = assess_penalty(breached(timedelta(0)), [ACME], T0, already=Decimal("1800.00"))
    assert p is not None
    assert p.amount == Decimal("200.00")
    assert assess_penalty(breached(timedelta(0)), [ACME], T0,
                          already=Decimal("2000.00")) is None
    credit = assess_availability(ACME, "checkout", "2026-03", Decimal("90"), T0,
                                 already=Decimal("1000.00"))
    assert credit is not None
    assert credit.amount == Decimal("1000.00")  # 25% capped


def test_uc_targets_move_penalties_from_sla_clocks_to_uc_clocks():
    uc = SupplierContract(contract_id="UC", supplier="Acme", services=frozenset({"checkout"}),
                          currency="EUR", penalties={1: Decimal("10")},
                          targets={1: SlaPolicy("UC P1", 1, 1800, 6 * 3600)})
    sla_clock = breached(timedelta(0))
    assert assess_penalty(sla_clock, [uc], T0) is None
    uc_clock = start_clock(incident_id="INC0000001", kind="response", generation=1,
                           policy=uc.targets[1], service="checkout", started_at=T0,
                           agreement="uc", party="Acme")
    uc_clock.breach(uc_clock.deadline)
    penalty = assess_penalty(uc_clock, [uc], T0)
    assert penalty is not None
    assert "UC response" in penalty.reason


@pytest.mark.parametrize(("currency", "amount", "rounded"), [
    ("EUR", "10.005", "10.01"), ("EUR", "10.004", "10.00"), ("JPY", "1234.5", "1235"),
    ("JPY", "1234.4", "1234"), ("KWD", "1.2345", "1.235"), ("USD", "-0.005", "-0.01")])
def test_rounding_to_the_currency_minor_unit(currency, amount, rounded):
    result = round_money(Decimal(amount), currency)
    assert result == Decimal(rounded)
    assert str(result) == rounded


def test_minor_units_and_floats_refused():
    assert (minor_unit("EUR"), minor_unit("JPY"), minor_unit("BHD")) == (2, 0, 3)
    assert quantum("JPY") == Decimal("1")
    with pytest.raises(TypeError):
        round_money(1.5, "EUR")  # type: ignore[arg-type]


def test_credit_in_yen_has_no_decimals():
    yen = SupplierContract(contract_id="JP", supplier="Tokyo DC", services=frozenset({"x"}),
                           currency="JPY", penalties={}, monthly_fee=Decimal("333333"),
                           credits=(CreditTier(Decimal("99.9"), Decimal("10")),))
    p = assess_availability(yen, "x", "2026-03", Decimal("99"), T0)
    assert p is not None
    assert str(p.amount) == "33333"
