from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from reasonops_slm.domain import (
    DEFAULT_POLICIES,
    SlaPolicy,
    format_duration,
    next_generation,
    start_clock,
)
from reasonops_slm.penalties import SupplierContract, assess_penalty

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
P1 = SlaPolicy("P1 critical", 1, 15 * 60, 4 * 3600)
ACME = SupplierContract(contract_id="ACME-1", supplier="Acme Hosting",
                        services=frozenset({"checkout"}), currency="EUR",
                        penalties={1: Decimal("500.00"), 2: Decimal("0.00")})


def clock(kind="response", policy=P1, service="checkout", generation=1):
    return start_clock(incident_id="INC0000001", kind=kind, generation=generation, policy=policy,
                       service=service, started_at=T0)


def test_deadline_is_start_plus_the_policy_target_of_the_kind():
    assert clock("response").deadline == T0 + timedelta(minutes=15)
    assert clock("resolution").deadline == T0 + timedelta(hours=4)
    assert clock("resolution").target_seconds == 4 * 3600


def test_clock_id_is_deterministic_per_incident_kind_and_generation():
    assert clock("resolution", generation=2).clock_id == "INC0000001-resolution-2"


def test_elapsed_remaining_and_percent_of_a_running_clock():
    c = clock()
    now = T0 + timedelta(minutes=6)
    assert c.elapsed_seconds(now) == 360
    assert c.remaining_seconds(now) == 540
    assert c.percent_consumed(now) == 40.0


def test_overdue_clock_has_no_time_left_and_more_than_100_percent_used():
    c = clock()
    now = T0 + timedelta(minutes=30)
    assert c.remaining_seconds(now) == 0
    assert c.percent_consumed(now) == 200.0


def test_stopped_clock_freezes_its_figures():
    c = clock()
    assert c.stop(T0 + timedelta(minutes=3)) == "met"
    later = T0 + timedelta(hours=5)
    assert c.elapsed_seconds(later) == 180
    assert c.remaining_seconds(later) == 720
    assert c.percent_consumed(later) == 20.0


def test_stop_exactly_at_the_deadline_is_met():
    c = clock()
    assert c.stop(c.deadline) == "met"
    assert c.state == "met"


def test_stop_after_the_deadline_unnoticed_is_a_breach():
    c = clock()
    assert c.stop(c.deadline + timedelta(seconds=1)) == "breached"
    assert c.state == "breached"


def test_stopping_twice_does_nothing_the_second_time():
    c = clock()
    c.stop(T0 + timedelta(minutes=1))
    assert c.stop(T0 + timedelta(minutes=2)) is None
    assert c.stopped_at == T0 + timedelta(minutes=1)


def test_breach_needs_a_running_clock_past_its_deadline():
    c = clock()
    assert not c.breach(c.deadline - timedelta(seconds=1))
    assert c.breach(c.deadline)
    assert c.state == "breached"
    assert not c.breach(c.deadline + timedelta(hours=1))


def test_stopping_a_breached_clock_records_the_time_but_keeps_the_breach():
    c = clock()
    c.breach(c.deadline)
    assert c.stop(c.deadline + timedelta(minutes=5)) == "recorded"
    assert c.state == "breached"
    assert c.elapsed_seconds(T0 + timedelta(days=1)) == 20 * 60


def test_cancel_stops_only_running_clocks():
    c = clock()
    assert c.cancel(T0 + timedelta(minutes=1))
    assert c.state == "cancelled"
    assert not c.cancel(T0 + timedelta(minutes=2))
    assert c.stop(T0 + timedelta(minutes=3)) is None


def test_next_generation_counts_clocks_of_the_kind():
    clocks = [clock("response"), clock("resolution")]
    assert next_generation(clocks, "resolution") == 2


def test_default_policies_per_priority():
    targets = {p.priority: (p.response_seconds, p.resolution_seconds) for p in DEFAULT_POLICIES}
    h = 3600
    assert targets == {1: (900, 4 * h), 2: (1800, 8 * h), 3: (4 * h, 72 * h),
                       4: (8 * h, 120 * h), 5: (24 * h, 240 * h)}
    assert DEFAULT_POLICIES.for_priority(3).name == "P3 moderate"


def test_unknown_priority_has_no_policy():
    with pytest.raises(KeyError, match="P9"):
        DEFAULT_POLICIES.for_priority(9)


def test_breach_on_a_covered_service_costs_the_priority_amount():
    c = clock("resolution")
    penalty = assess_penalty(c, [ACME], at=c.deadline)
    assert penalty is not None
    assert penalty.amount == Decimal("500.00")
    assert isinstance(penalty.amount, Decimal)
    assert (penalty.currency, penalty.supplier, penalty.contract_id) == ("EUR", "Acme Hosting",
                                                                         "ACME-1")
    assert penalty.penalty_id == f"PEN-{c.clock_id}"
    assert penalty.kind == "resolution"
    assert "4h" in penalty.reason


def test_penalty_id_is_the_same_when_assessed_again():
    c = clock()
    first = assess_penalty(c, [ACME], at=c.deadline)
    again = assess_penalty(c, [ACME], at=c.deadline + timedelta(hours=1))
    assert first is not None
    assert again is not None
    assert first.penalty_id == again.penalty_id


@pytest.mark.parametrize("service", ["payments", None])
def test_uncovered_service_costs_nothing(service):
    assert assess_penalty(clock(service=service), [ACME], at=T0) is None


def test_priority_not_listed_or_zero_costs_nothing():
    p2 = SlaPolicy("P2", 2, 60, 120)
    p3 = SlaPolicy("P3", 3, 60, 120)
    assert assess_penalty(clock(policy=p2), [ACME], at=T0) is None
    assert assess_penalty(clock(policy=p3), [ACME], at=T0) is None


def test_no_contracts_no_penalties():
    assert assess_penalty(clock(), [], at=T0) is None


@pytest.mark.parametrize(("seconds", "text"), [(900, "15m"), (14400, "4h"), (93600, "1d2h"),
                                               (90, "1m30s"), (0, "0s")])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text
