from dataclasses import replace
from datetime import UTC, datetime, timedelta

from reasonops_agent_slm.domain import (
    Answered,
    Answers,
    Pace,
    Watched,
    actions,
    forecast,
    output,
    working,
)

MONDAY_10 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
SUNDAY_3 = datetime(2026, 11, 8, 3, 0, tzinfo=UTC)


def clock(now: datetime, *, started_minutes_ago: float = 5, target_minutes: float = 30,
          priority: int = 2, kind: str = "response", agreement: str = "sla",
          party: str | None = None) -> Watched:
    started = now - timedelta(minutes=started_minutes_ago)
    return Watched(clock_id="C1", incident_id="INC0000100", kind=kind, agreement=agreement,
                   party=party, priority=priority, service="checkout", started_at=started,
                   deadline=started + timedelta(minutes=target_minutes),
                   target_seconds=int(target_minutes * 60), group="payments-oncall",
                   opened_at=started)


def minutes(*values: float) -> tuple[float, ...]:
    return tuple(v * 60 for v in values)


def test_a_group_slower_than_the_time_left_is_forecast_to_breach():
    pace = Pace(in_hours=minutes(35, 38, 40, 42, 45, 50))
    found = forecast(clock(MONDAY_10), pace, 0, None, MONDAY_10)
    assert found.breach
    assert found.seconds_left == 25 * 60
    assert found.seconds_needed == (45 - 5) * 60  # the 80th percentile, less what is spent
    assert "payments-oncall usually needs 45 min in working hours" in found.reasons[1]
    assert found.reasons[-1] == "likely done 15 min after the deadline"


def test_a_fast_group_is_not_and_its_queue_can_make_it_late():
    pace = Pace(in_hours=minutes(4, 5, 6, 7, 8))
    assert not forecast(clock(MONDAY_10), pace, 0, None, MONDAY_10).breach
    queued = forecast(clock(MONDAY_10), pace, 8, 8 * 60, MONDAY_10)
    assert queued.breach
    assert "8 incidents queued before it in payments-oncall (about 32 min)" in queued.reasons


def test_out_of_hours_the_night_pace_counts():
    pace = Pace(in_hours=minutes(5, 5, 6, 6, 7), out_of_hours=minutes(40, 45, 50, 55, 60))
    assert not working(SUNDAY_3)
    assert forecast(clock(SUNDAY_3), pace, 0, None, SUNDAY_3).breach
    assert not forecast(clock(MONDAY_10), pace, 0, None, MONDAY_10).breach


def test_without_history_everyone_then_half_the_target():
    few = Pace(in_hours=minutes(60, 60), everyone=minutes(10, 10, 10, 10, 10))
    found = forecast(clock(MONDAY_10), few, 0, None, MONDAY_10)
    assert not found.breach
    assert "groups usually need 10 min" in found.reasons[1]
    bare = forecast(clock(MONDAY_10), Pace(), 0, None, MONDAY_10)
    assert "no history yet: assumed 50% of the target" in bare.reasons
    assert not bare.breach  # 15 of 30 minutes needed, 25 left


def test_proposals_follow_the_situation():
    slow = Pace(in_hours=minutes(50, 50, 50, 50, 50))
    late = forecast(clock(MONDAY_10), slow, 4, 60, MONDAY_10)
    assert actions(clock(MONDAY_10), late) == ["escalate", "raise_priority"]
    assert actions(clock(MONDAY_10), late, {"payments-oncall": "payments-backup"}) == [
        "escalate", "raise_priority", "reassign"]
    supplier = clock(MONDAY_10, priority=1, agreement="uc", party="acme-hosting")
    assert actions(supplier, late) == ["escalate", "notify_supplier"]
    view = output(clock(MONDAY_10), late)
    assert view.predicted_breach
    assert view.recommended_actions == ["escalate", "raise_priority"]
    assert view.summary.startswith("INC0000100 response (SLA) is likely to breach")
    fine = output(clock(MONDAY_10), forecast(clock(MONDAY_10), Pace(), 0, None, MONDAY_10))
    assert not fine.predicted_breach
    assert fine.recommended_actions == []


def answered(load: int, *answer_minutes: float, in_hours: bool = True) -> tuple[Answered, ...]:
    return tuple(Answered(load, in_hours, m * 60) for m in answer_minutes)


def loaded(now: datetime, load: int, **kw: object) -> Watched:
    """A clock started at ``now`` on an incident opened with ``load`` others open."""
    return replace(clock(now, started_minutes_ago=0, **kw), load=load)  # type: ignore[arg-type]


def test_a_response_clock_is_compared_with_incidents_opened_as_loaded():
    # Idle, the group answers in 5-8 minutes; with four incidents open, in 40-50.
    history = Pace(in_hours=minutes(5, 6, 7, 8, 40, 45, 50, 50, 55, 60),
                   answered=Answers.of(answered(0, 5, 6, 7, 8, 8)
                                       + answered(4, 40, 45, 50, 50, 55)))
    idle = forecast(loaded(MONDAY_10, 0), history, 0, None, MONDAY_10)
    assert not idle.breach
    busy = forecast(loaded(MONDAY_10, 4), history, 0, None, MONDAY_10)
    assert busy.breach
    assert busy.seconds_needed == 50 * 60  # their median
    assert ("of 5 incidents of payments-oncall opened in working hours while 4 others were "
            "open and unanswered after 0 min, 5 were answered after 30 min (50th percentile "
            "50 min)") in busy.reasons
    # Without the load, the group's whole pace decides (its 80th percentile: 55 min).
    assert "payments-oncall usually needs 55 min in working hours" in " ".join(
        forecast(clock(MONDAY_10), history, 0, None, MONDAY_10).reasons)


def test_only_incidents_still_unanswered_at_the_clocks_age_count():
    # Most like incidents were answered within 10 minutes; of those still waiting at 12
    # minutes, most waited past the 30-minute target.
    history = Pace(answered=Answers.of(answered(2, 3, 4, 5, 6, 7, 8, 9, 35, 40, 45, 50, 60)))
    assert not forecast(loaded(MONDAY_10, 2), history, 0, None, MONDAY_10).breach
    later = MONDAY_10 + timedelta(minutes=12)
    late = forecast(loaded(MONDAY_10, 2), history, 0, None, later)
    assert late.breach
    assert "of 5 incidents" in late.reasons[1]
    assert "unanswered after 12 min" in late.reasons[1]


def test_too_few_alike_widens_the_load_then_falls_back_to_the_pace():
    near = Pace(answered=Answers.of(answered(3, 40, 40) + answered(4, 45, 50, 55)))
    found = forecast(loaded(MONDAY_10, 3), near, 0, None, MONDAY_10)
    assert found.breach
    assert "while 2-4 others were open" in found.reasons[1]
    night = Pace(in_hours=minutes(5, 5, 5, 5, 5),
                 answered=Answers.of(answered(3, 40, 45, 50, 55, 60, in_hours=False)))
    assert not forecast(loaded(MONDAY_10, 3), night, 0, None, MONDAY_10).breach
    assert "usually needs 5 min in working hours" in forecast(
        loaded(MONDAY_10, 3), night, 0, None, MONDAY_10).reasons[1]
    # A resolution clock is not compared with answers.
    done = replace(loaded(MONDAY_10, 4, kind="resolution", target_minutes=240),
                   acknowledged=True)
    assert "no history yet: assumed 50% of the target" in forecast(
        done, near, 0, None, MONDAY_10).reasons
