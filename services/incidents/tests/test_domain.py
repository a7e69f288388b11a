from datetime import UTC, datetime, timedelta

import pytest

from reasonops_incidents.incident.domain import (
    Alert,
    Outcome,
    State,
    TransitionError,
    open_incident,
    route_alert,
)

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def alert(status="firing", fingerprint="fp1", severity="critical", **labels):
    return Alert(fingerprint=fingerprint, status=status, name="HighErrorRate", severity=severity,
                 summary="checkout 5xx", service="checkout", resource="pod-1",
                 labels={"alertname": "HighErrorRate", **labels}, annotations={}, starts_at=T0)


def incident():
    return open_incident(alert(), incident_id="INC0000001", at=T0, correlation_id="c1")


def test_first_firing_alert_opens_an_incident_with_its_priority():
    assert route_alert("firing", None) is Outcome.OPENED
    inc = incident()
    assert (inc.state, inc.priority, inc.alert_count) == (State.NEW, 1, 1)
    assert inc.title == "checkout 5xx"
    assert inc.first_alert_at == T0


def test_second_firing_alert_only_counts():
    assert route_alert("firing", incident().state) is Outcome.COUNTED


def test_resolved_alert_resolves_an_open_incident():
    inc = incident()
    inc.apply("acknowledge", T0 + timedelta(minutes=1))
    assert route_alert("resolved", inc.state) is Outcome.RESOLVED


def test_resolved_alert_without_open_incident_is_ignored():
    assert route_alert("resolved", None) is Outcome.IGNORED
    inc = incident()
    inc.apply("resolve", T0)
    assert route_alert("resolved", inc.state) is Outcome.IGNORED


def test_firing_again_reopens_a_resolved_incident_and_a_closed_one_opens_anew():
    inc = incident()
    inc.apply("resolve", T0)
    assert route_alert("firing", inc.state) is Outcome.REOPENED
    inc.apply("close", T0)
    assert route_alert("firing", inc.state) is Outcome.OPENED


def test_lifecycle_records_times_and_note():
    inc = incident()
    inc.apply("acknowledge", T0 + timedelta(minutes=2))
    inc.apply("resolve", T0 + timedelta(minutes=30), note="rolled back")
    inc.apply("close", T0 + timedelta(hours=1))
    assert inc.state is State.CLOSED
    assert inc.acknowledged_at == T0 + timedelta(minutes=2)
    assert inc.resolved_at == T0 + timedelta(minutes=30)
    assert inc.note == "rolled back"


def test_reopen_clears_acknowledgement_and_resolution():
    inc = incident()
    inc.apply("acknowledge", T0)
    inc.apply("resolve", T0)
    inc.apply("reopen", T0)
    assert (inc.state, inc.acknowledged_at, inc.resolved_at) == (State.NEW, None, None)


@pytest.mark.parametrize(("setup", "action"), [
    ([], "close"), (["acknowledge"], "acknowledge"), (["resolve", "close"], "reopen"),
    (["resolve", "close"], "acknowledge"), ([], "reopen"),
])
def test_illegal_transitions_raise_a_typed_error(setup, action):
    inc = incident()
    for step in setup:
        inc.apply(step, T0)
    with pytest.raises(TransitionError) as err:
        inc.apply(action, T0)
    assert err.value.action == action
    assert inc.incident_id in str(err.value)
