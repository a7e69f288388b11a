"""A month's service figures from outages, maintenance and incident times."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from reasonops_slm.availability import (
    IncidentTimes,
    Maintenance,
    Outage,
    month_bounds,
    next_month,
    service_month,
)

MARCH = "2026-03"  # 31 days = 2,678,400 s


def at(day, hour=0, minute=0):
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


END = at(31) + timedelta(days=1)


def figures(outages=(), incidents=(), maintenance=(), now=END, **kw):
    return service_month(service="checkout", month=MARCH, outages=outages,
                         incidents=incidents, maintenance=maintenance, breaches=2, now=now,
                         **kw)


def test_month_bounds_and_next_month():
    assert month_bounds("2026-12") == (datetime(2026, 12, 1, tzinfo=UTC),
                                       datetime(2027, 1, 1, tzinfo=UTC))
    assert next_month("2026-12") == "2027-01"


def test_quiet_month_is_fully_available_with_the_whole_budget_left():
    f = figures()
    assert f.availability == Decimal("100.0000")
    assert f.error_budget_seconds == 2678  # 0.1% of 2,678,400 s
    assert f.error_budget_remaining_percent == Decimal("100.00")
    assert (f.mtta_seconds, f.mttr_seconds, f.mtbf_seconds) == (None, None, None)


def test_downtime_weighted_by_impact_with_overlaps_counting_the_heaviest():
    outages = [Outage("A", "checkout", 1, at(2, 10), at(2, 11)),   # 1h full
               Outage("B", "checkout", 2, at(2, 10, 30), at(2, 12)),  # half, overlaps A
               Outage("C", "search", 1, at(3), at(4))]               # another service
    f = figures(outages)
    # A: 3600 x 1; B beyond A: 11:00-12:00 x 0.5 = 1800. Total 5400.
    assert f.downtime_seconds == 5400
    assert f.availability == Decimal("99.7984")  # 100 - 5400/2678400*100 = 99.79839...
    assert f.error_budget_remaining_seconds == 2678 - 5400


def test_maintenance_windows_are_excluded_from_downtime_and_due_time():
    outages = [Outage("A", "checkout", 1, at(8, 1), at(8, 5))]
    windows = [Maintenance("checkout", at(8, 2), at(8, 4)), Maintenance("search", at(8), at(9))]
    f = figures(outages, maintenance=windows)
    assert f.maintenance_seconds == 7200
    assert f.downtime_seconds == 7200
    assert f.availability == (100 - Decimal(7200) / Decimal(2678400 - 7200) * 100).quantize(
        Decimal("0.0001"))


def test_outage_across_the_month_boundary_is_clipped_and_open_ones_count_to_now():
    outages = [Outage("A", "checkout", 1, datetime(2026, 2, 28, 23, tzinfo=UTC), at(1, 1)),
               Outage("B", "checkout", 1, at(20), None)]
    f = figures(outages, now=at(20, 2))
    assert f.period_seconds == 19 * 86400 + 7200
    assert f.downtime_seconds == 3600 + 7200


def test_mtta_mttr_mtbf():
    incidents = [IncidentTimes("A", "checkout", at(2, 10), at(2, 10, 10), at(2, 11)),
                 IncidentTimes("B", "checkout", at(5, 10), None, at(5, 13))]
    outages = [Outage("A", "checkout", 1, at(2, 10), at(2, 11)),
               Outage("B", "checkout", 1, at(5, 10), at(5, 13))]
    f = figures(outages, incidents)
    assert f.mtta_seconds == 600
    assert f.mttr_seconds == (3600 + 3 * 3600) // 2
    assert f.mtbf_seconds == (2678400 - 4 * 3600) // 2
    assert (f.incidents, f.breaches) == (2, 2)
