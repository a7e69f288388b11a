"""Business-time arithmetic: hours, nights, weekends, holidays and DST changes."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from reasonops_slm.schedule import ALWAYS, Schedule

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS = frozenset({1, 2, 3, 4, 5})


def office(zone=LONDON, holidays=(), start=time(9), end=time(17)):
    return Schedule("office", zone=zone, days=WEEKDAYS, start=start, end=end,
                    holidays=frozenset(holidays))


def local(zone, *args):
    return datetime(*args, tzinfo=zone).astimezone(UTC)


def test_24x7_counts_every_second():
    start = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    assert ALWAYS.add(start, 7200) == start + timedelta(hours=2)
    assert ALWAYS.business_seconds(start, start + timedelta(days=2)) == 172800


def test_within_one_working_day():
    s = office()
    start = local(LONDON, 2026, 11, 2, 10, 0)  # Monday, GMT
    assert s.add(start, 3 * 3600) == local(LONDON, 2026, 11, 2, 13, 0)
    assert s.business_seconds(start, local(LONDON, 2026, 11, 2, 13, 0)) == 3 * 3600


def test_overnight_carries_to_the_next_morning():
    s = office()
    start = local(LONDON, 2026, 11, 2, 16, 0)  # one hour left on Monday
    assert s.add(start, 4 * 3600) == local(LONDON, 2026, 11, 3, 12, 0)
    assert s.business_seconds(start, local(LONDON, 2026, 11, 3, 12, 0)) == 4 * 3600


def test_outside_hours_starts_counting_at_opening():
    s = office()
    assert s.add(local(LONDON, 2026, 11, 2, 20, 0), 1800) == local(LONDON, 2026, 11, 3, 9, 30)
    assert s.business_seconds(local(LONDON, 2026, 11, 2, 18, 0),
                              local(LONDON, 2026, 11, 3, 8, 0)) == 0


def test_weekend_is_skipped():
    s = office()
    friday = local(LONDON, 2026, 11, 6, 15, 0)
    assert s.add(friday, 4 * 3600) == local(LONDON, 2026, 11, 9, 11, 0)  # Monday 11:00
    assert s.business_seconds(friday, local(LONDON, 2026, 11, 9, 11, 0)) == 4 * 3600


def test_holidays_are_skipped():
    s = office(holidays=[date(2026, 12, 25), date(2026, 12, 28)])
    thursday = local(LONDON, 2026, 12, 24, 16, 0)
    # Thu 16-17 (1h), Fri 25th holiday, weekend, Mon 28th holiday, Tue 29th 09-11.
    assert s.add(thursday, 3 * 3600) == local(LONDON, 2026, 12, 29, 11, 0)


def test_deadline_exactly_at_closing_stays_that_day():
    s = office()
    assert s.add(local(LONDON, 2026, 11, 2, 9, 0), 8 * 3600) == local(LONDON, 2026, 11, 2, 17, 0)


@pytest.mark.parametrize(("zone", "friday", "monday_utc_hour"), [
    # Spring forward: London 29 March 2026, New York 8 March 2026.
    (LONDON, (2026, 3, 27), 9), (NEW_YORK, (2026, 3, 6), 14)])
def test_spring_forward_moves_the_window_in_utc_not_its_length(zone, friday, monday_utc_hour):
    s = office(zone)
    start = local(zone, *friday, 16, 0)
    deadline = s.add(start, 2 * 3600)  # 1h on Friday, 1h on Monday
    assert deadline.astimezone(zone).time() == time(10, 0)
    assert deadline.hour == monday_utc_hour
    assert s.business_seconds(start, deadline) == 2 * 3600


@pytest.mark.parametrize(("zone", "friday", "monday_utc_hour"), [
    # Fall back: London 25 October 2026, New York 1 November 2026.
    (LONDON, (2026, 10, 23), 10), (NEW_YORK, (2026, 10, 30), 15)])
def test_fall_back_moves_the_window_in_utc_not_its_length(zone, friday, monday_utc_hour):
    s = office(zone)
    deadline = s.add(local(zone, *friday, 16, 0), 2 * 3600)
    assert deadline.astimezone(zone).time() == time(10, 0)
    assert deadline.hour == monday_utc_hour


@pytest.mark.parametrize(("zone", "day"), [(LONDON, (2026, 3, 29)), (NEW_YORK, (2026, 3, 8))])
def test_24_hour_schedule_on_the_short_day_has_23_hours(zone, day):
    s = Schedule("all-days", zone=zone)  # every day, whole day, local time
    start = local(zone, *day, 0, 0)
    end = local(zone, day[0], day[1], day[2] + 1, 0, 0)
    assert s.business_seconds(start, end) == 23 * 3600
    assert s.add(start, 23 * 3600) == end


def test_night_shift_window_runs_past_midnight():
    s = office(start=time(22), end=time(6))
    start = local(LONDON, 2026, 11, 2, 23, 0)  # Monday night
    assert s.add(start, 8 * 3600) == local(LONDON, 2026, 11, 3, 23, 0)  # 7h Mon night + 1h Tue


def test_a_schedule_with_no_working_time_is_refused():
    s = Schedule("never", zone=LONDON, days=frozenset())
    with pytest.raises(ValueError, match="no working time"):
        s.add(datetime(2026, 1, 1, tzinfo=UTC), 60)


def test_zone_names_resolve_in_an_image_without_a_zone_database():
    """Slim images have no /usr/share/zoneinfo: the tzdata package answers, legacy names
    (US/Eastern) included."""
    import zoneinfo

    zoneinfo.reset_tzpath(to=[])
    zoneinfo.ZoneInfo.clear_cache()
    try:
        assert str(zoneinfo.ZoneInfo("US/Eastern")) == "US/Eastern"
        assert zoneinfo.ZoneInfo("Europe/Berlin").utcoffset(None) is None
    finally:
        zoneinfo.reset_tzpath()
        zoneinfo.ZoneInfo.clear_cache()
