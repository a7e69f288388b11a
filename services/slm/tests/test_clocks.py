"""Clocks on a business schedule: pause, resume, at-risk thresholds, retargeting."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from reasonops_slm.domain import SlaPolicy, start_clock
from reasonops_slm.schedule import Schedule

LONDON = ZoneInfo("Europe/London")
OFFICE = Schedule("office", zone=LONDON, days=frozenset({1, 2, 3, 4, 5}), start=time(9),
                  end=time(17))
P2 = SlaPolicy("P2 office", 2, 3600, 8 * 3600, schedule=OFFICE)
MON_10 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)  # GMT, so also 10:00 in London


def clock(kind="resolution", policy=P2, at=MON_10):
    return start_clock(incident_id="INC0000001", kind=kind, generation=1, policy=policy,
                       service="checkout", started_at=at)


def test_resolution_deadline_counts_business_hours():
    # 7h left on Monday (10-17), 1h on Tuesday.
    assert clock().deadline == datetime(2026, 11, 3, 10, 0, tzinfo=UTC)


def test_elapsed_counts_only_working_time():
    c = clock()
    assert c.elapsed_seconds(datetime(2026, 11, 3, 9, 30, tzinfo=UTC)) == 7.5 * 3600
    assert c.remaining_seconds(datetime(2026, 11, 3, 9, 30, tzinfo=UTC)) == 0.5 * 3600
    assert c.percent_consumed(datetime(2026, 11, 2, 14, 0, tzinfo=UTC)) == 50.0


def test_pause_freezes_elapsed_and_resume_moves_the_deadline():
    c = clock()
    assert c.pause(datetime(2026, 11, 2, 12, 0, tzinfo=UTC))  # 2h counted
    assert c.elapsed_seconds(datetime(2026, 11, 2, 16, 0, tzinfo=UTC)) == 2 * 3600
    assert not c.breach(datetime(2026, 11, 9, tzinfo=UTC))  # paused clocks never breach
    assert c.resume(datetime(2026, 11, 2, 15, 0, tzinfo=UTC))  # paused 3 working hours
    assert c.paused_seconds == 3 * 3600
    assert c.deadline == datetime(2026, 11, 3, 13, 0, tzinfo=UTC)
    assert c.elapsed_seconds(datetime(2026, 11, 2, 17, 0, tzinfo=UTC)) == 4 * 3600


def test_pause_over_a_weekend_counts_no_paused_working_time_outside_hours():
    c = clock(at=datetime(2026, 11, 6, 16, 0, tzinfo=UTC))  # Friday 16:00
    c.pause(datetime(2026, 11, 6, 17, 30, tzinfo=UTC))
    c.resume(datetime(2026, 11, 9, 8, 0, tzinfo=UTC))
    assert c.paused_seconds == 0
    assert c.deadline == datetime(2026, 11, 9, 16, 0, tzinfo=UTC)


def test_pause_and_resume_twice_do_nothing_the_second_time():
    c = clock()
    assert c.pause(MON_10 + timedelta(hours=1))
    assert not c.pause(MON_10 + timedelta(hours=2))
    assert c.resume(MON_10 + timedelta(hours=3))
    assert not c.resume(MON_10 + timedelta(hours=4))
    assert c.paused_seconds == 2 * 3600


def test_stop_while_paused_counts_until_the_pause():
    c = clock()
    c.pause(MON_10 + timedelta(hours=1))
    assert c.stop(datetime(2026, 11, 20, tzinfo=UTC)) == "met"
    assert c.elapsed_seconds(datetime(2026, 11, 21, tzinfo=UTC)) == 3600


def test_at_risk_thresholds_in_business_time_and_only_once():
    c = clock()
    assert c.next_check() == (datetime(2026, 11, 2, 14, 0, tzinfo=UTC), 50)
    assert c.due_warnings(datetime(2026, 11, 2, 14, 0, tzinfo=UTC)) == [50]
    assert c.due_warnings(datetime(2026, 11, 2, 14, 0, tzinfo=UTC)) == []
    # 75% = 6h: 16:00 Monday; 90% = 7.2h: 09:12 Tuesday.
    assert c.next_check() == (datetime(2026, 11, 2, 16, 0, tzinfo=UTC), 75)
    assert c.due_warnings(datetime(2026, 11, 3, 9, 12, tzinfo=UTC)) == [75, 90]
    assert c.next_check() == (c.deadline, None)


def test_breach_exactly_at_the_business_deadline():
    c = clock()
    assert not c.breach(c.deadline - timedelta(microseconds=1))
    assert c.breach(c.deadline)


def test_retarget_measures_from_the_original_start():
    c = clock()
    p1 = SlaPolicy("P1 office", 1, 900, 4 * 3600, schedule=OFFICE)
    assert c.retarget(p1)
    assert (c.priority, c.target_seconds) == (1, 4 * 3600)
    assert c.deadline == datetime(2026, 11, 2, 14, 0, tzinfo=UTC)


def test_overrun_in_working_time():
    c = clock()
    c.breach(c.deadline)
    c.stop(datetime(2026, 11, 3, 12, 30, tzinfo=UTC))
    assert c.overrun_seconds() == 2.5 * 3600
