from datetime import UTC, datetime, timedelta

import pytest

from reasonops_incidents.access import silenced_service
from reasonops_incidents.incident.domain import Alert, State, TransitionError, open_incident
from reasonops_incidents.silence.domain import Schedule, Silence

MON = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # a Monday


def window(**kw):
    base = dict(silence_id="SIL0000001", kind="maintenance", matchers=("service=db",),
                starts_at=MON, ends_at=MON + timedelta(hours=2), author="alice",
                reason="patching", created_at=MON)
    base.update(kw)
    return Silence(**base)


def test_one_off_window_is_active_from_start_until_end_exclusive():
    s = window()
    assert s.state(MON - timedelta(seconds=1)) == "pending"
    assert s.active(MON)
    assert s.active(MON + timedelta(hours=2) - timedelta(microseconds=1))
    assert not s.active(MON + timedelta(hours=2))
    assert s.state(MON + timedelta(hours=2)) == "expired"


def test_expiring_by_hand_ends_it_at_once():
    s = window(expired_at=MON + timedelta(minutes=30))
    assert s.active(MON + timedelta(minutes=29))
    assert s.state(MON + timedelta(minutes=30)) == "expired"


def test_recurring_window_every_listed_weekday():
    s = window(ends_at=None, schedule=Schedule(("sat", "sun"), "22:00", 4 * 3600),
               until=MON + timedelta(days=30))
    saturday_night = MON + timedelta(days=5, hours=23)
    assert s.active(saturday_night)
    assert s.active(saturday_night + timedelta(hours=2, minutes=59))  # Sunday 01:59
    assert not s.active(saturday_night + timedelta(hours=3))  # Sunday 02:00
    assert not s.active(MON + timedelta(days=2, hours=23))  # Wednesday
    assert s.state(MON + timedelta(days=31)) == "expired"


def test_silence_matches_on_all_matchers():
    s = window(matchers=("service=db", "severity!=critical"))
    assert s.matches({"service": "db", "severity": "warning"})
    assert not s.matches({"service": "db", "severity": "critical"})


def _incident():
    alert = Alert(fingerprint="f", status="firing", name="X", severity="error", summary="x",
                  service="s", resource="r", labels={}, annotations={}, starts_at=None)
    return open_incident(alert, incident_id="INC0000001", at=MON, correlation_id="c")


def test_hold_and_resume_return_to_the_state_held_from():
    inc = _incident()
    inc.apply("hold", MON, "awaiting_supplier")
    assert (inc.state, inc.held_from) == (State.ON_HOLD, "new")
    inc.apply("resume", MON)
    assert inc.state is State.NEW
    inc.apply("acknowledge", MON)
    inc.apply("hold", MON)
    inc.apply("resume", MON)
    assert inc.state is State.ACKNOWLEDGED


def test_on_hold_incident_can_be_resolved_but_not_held_again():
    inc = _incident()
    inc.apply("hold", MON)
    with pytest.raises(TransitionError, match="allowed: resolve, resume"):
        inc.apply("hold", MON)
    inc.apply("resolve", MON)
    assert inc.state is State.RESOLVED


@pytest.mark.parametrize(("matchers", "service"), [
    (["service=checkout", "severity=critical"], "checkout"),
    (["service = 'checkout'"], "checkout"),
    (["service=~check.*"], None),
    (["service!=checkout"], None),
    (["service=a", "service=b"], None),
    (["alertname=DiskFull"], None),
])
def test_a_silence_is_scoped_by_the_one_service_it_names(matchers, service):
    assert silenced_service(matchers) == service
