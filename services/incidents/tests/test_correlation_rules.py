"""Correlation rule semantics, as plain calls on the correlation engine."""

from datetime import timedelta

RULES = """
rules:
  - name: checkout-outage
    match: ["service=checkout"]
    group_by: [service, alertname]
    window: 5m
    create_on: {alerts: 3}
    resolve_on: all
    assign_to: payments
  - name: db
    match: ["service=~.*-db"]
    group_by: [service]
    window: 10m
    create_on: {resources: 2}
    resolve_on: last
  - name: edge
    match: ["service=edge"]
    group_by: [service]
    resolve_on: first
  - name: batch
    match: ["service=batch"]
    group_by: [service]
    resolve_on: never
"""


def test_default_rule_is_one_incident_per_fingerprint(core):
    h = core()
    a = h.alert
    h.feed(a("f1", service="search"), a("f1", service="search"), a("f2", service="search"))
    incidents = h.incidents()
    assert [(i.fingerprint, i.alert_count, i.rule) for i in incidents] == [
        ("f1", 2, "default"), ("f2", 1, "default")]
    h.feed(a("f1", "resolved", service="search", at=10))
    h.feed(a("f1", service="search", at=20))  # firing again after a resolve: reopen
    incidents = h.incidents()
    assert incidents[0].state.value == "new"
    assert h.types().count("reopened") == 1


def test_create_on_n_alerts_waits_for_the_threshold(core):
    h = core(RULES)
    a = h.alert
    assert h.feed(a("c1", at=0), a("c2", at=10)) == []
    assert h.incidents() == []
    out = h.feed(a("c3", at=20))
    assert h.types(out)[:2] == ["opened", "assigned"]
    [incident] = h.incidents()
    assert (incident.alert_count, incident.firing_alerts, incident.assignment_group) == (
        3, 3, "payments")
    assert incident.group_key == "checkout-outage:service=checkout,alertname=HighErrorRate"


def test_repeats_of_one_alert_do_not_count_as_several(core):
    h = core(RULES)
    a = h.alert
    h.feed(a("c1", at=0), a("c1", at=5), a("c1", at=10), a("c2", at=15))
    assert h.incidents() == []


def test_window_expires_at_its_exact_boundary(core):
    h = core(RULES)
    a = h.alert
    h.feed(a("c1", at=0), a("c2", at=1))
    h.feed(a("c3", at=300))  # c1 was 300s ago: exactly out of a 5m window
    assert h.incidents() == []
    h.feed(a("c4", at=300.999))  # c2 (1s) is still inside: c2, c3, c4
    [incident] = h.incidents()
    assert incident.alert_count == 3


def test_create_on_distinct_resources(core):
    h = core(RULES)
    a = h.alert
    h.feed(a("d1", service="payments-db", resource="db-1"),
                 a("d2", service="payments-db", resource="db-1", name="SlowQueries"))
    assert h.incidents() == []
    h.feed(a("d3", service="payments-db", resource="db-2", at=30))
    [incident] = h.incidents()
    assert (incident.rule, incident.alert_count, incident.resource) == ("db", 3, None)


def test_late_alert_joins_the_open_incident_and_raises_priority(core):
    h = core(RULES)
    a = h.alert
    h.feed(a("c1"), a("c2", at=1), a("c3", at=2))
    [incident] = h.incidents()
    assert incident.priority == 3
    # long after the window, but the incident is still open: it joins
    out = h.feed(a("c9", at=3600, severity="critical"))
    assert h.types(out) == ["priority_changed", "major_declared"]
    [incident] = h.incidents()
    assert (incident.alert_count, incident.priority, incident.major) == (4, 1, True)
    assert incident.priority_reason.startswith("raised when HighErrorRate (critical) joined")
    changed = out[0].data
    assert (changed["previous_priority"], changed["priority"]) == (3, 1)


def test_priority_is_never_lowered_by_a_milder_alert(core):
    h = core(RULES)
    a = h.alert
    h.feed(a("c1", severity="error"), a("c2", at=1), a("c3", at=2))
    h.feed(a("c4", at=10, severity="info"))
    [incident] = h.incidents()
    assert incident.priority == 2
    assert "priority_changed" not in h.types()


def test_resolve_on_all_waits_for_every_alert(core):
    h = core(RULES)
    a = h.alert
    h.feed(a("c1"), a("c2", at=1), a("c3", at=2))
    h.feed(a("c1", "resolved", at=10), a("c2", "resolved", at=11))
    assert (h.incidents())[0].state.value == "new"
    h.feed(a("c3", "resolved", at=12))
    assert (h.incidents())[0].state.value == "resolved"


def test_resolve_on_first(core):
    h = core(RULES)
    a = h.alert
    h.feed(a("e1", service="edge"), a("e2", service="edge", at=1))
    h.feed(a("e2", "resolved", service="edge", at=5))
    assert (h.incidents())[0].state.value == "resolved"


def test_resolve_on_last_follows_the_most_recent_alert(core):
    h = core(RULES)
    a = h.alert
    h.feed(a("d1", service="payments-db", resource="db-1"),
                 a("d2", service="payments-db", resource="db-2", at=1))
    h.feed(a("d1", "resolved", service="payments-db", resource="db-1", at=5))
    assert (h.incidents())[0].state.value == "new"
    h.feed(a("d2", "resolved", service="payments-db", resource="db-2", at=6))
    assert (h.incidents())[0].state.value == "resolved"


def test_resolve_on_never_leaves_it_to_people(core):
    h = core(RULES)
    a = h.alert
    h.feed(a("b1", service="batch"))
    h.feed(a("b1", "resolved", service="batch", at=5))
    assert (h.incidents())[0].state.value == "new"


def test_a_resolved_pending_alert_no_longer_counts(core):
    h = core(RULES)
    a = h.alert
    h.feed(a("c1"), a("c2", at=1))
    h.feed(a("c2", "resolved", at=2))
    h.feed(a("c3", at=3))
    assert h.incidents() == []
    h.feed(a("c4", at=4))
    assert len(h.incidents()) == 1


def test_after_close_the_group_starts_over(core):
    h = core(RULES)
    a = h.alert
    h.feed(a("e1", service="edge"))
    h.feed(a("e1", "resolved", service="edge", at=5))
    [incident] = h.incidents()
    incident.apply("close", h.clock.now())  # by hand, as the close command does
    h.feed(a("e1", service="edge", at=60))
    assert [i.state.value for i in h.incidents()] == ["closed", "new"]


def test_timeline_records_opening_joins_and_priority(core):
    h = core(RULES)
    a = h.alert
    h.feed(a("c1"), a("c2", at=1), a("c3", at=2))
    h.feed(a("c4", at=30, severity="error"), a("c4", at=31))
    entries = h.timeline("INC0000001")
    kinds = [e.kind for e in entries]
    assert kinds == ["opened", "assigned", "alert_joined", "priority_changed"]
    assert entries[0].detail.startswith("opened by rule checkout-outage (3 alerts on 3 "
                                        "resources within 300s)")
    assert entries[1].detail == ("assigned to payments: correlation rule checkout-outage")
    assert entries[3].at == h.alert("x", at=30).received_at
    assert entries[3].actor == "incidents"
    assert timedelta(0) == entries[3].at - entries[2].at


CRASHING = '{}:{alertname="KubePodCrashLooping", namespace="shop"}'


def crash(a, fingerprint, pod, status="firing", at=0, sender="prod-alertmanager"):
    return a(fingerprint, status, at=at, name="KubePodCrashLooping", severity="critical",
             service="checkout", resource=pod, group_key=CRASHING, integration=sender)


def test_alerts_the_sender_grouped_open_one_incident(core):
    """Two pods of one deployment crash-looping, sent as one Alertmanager group: one P1
    incident (one major incident), not two."""
    h = core()
    out = h.feed(crash(h.alert, "p1", "checkout-7d9-a"), crash(h.alert, "p2", "checkout-7d9-b"))
    [incident] = h.incidents()
    assert (incident.alert_count, incident.firing_alerts, incident.priority) == (2, 2, 1)
    assert incident.resource is None  # more than one: the view lists them
    assert (h.types(out).count("opened"), h.types(out).count("major_declared")) == (1, 1)
    assert [e.kind for e in h.timeline(incident.incident_id)].count("alert_joined") == 1
    h.feed(crash(h.alert, "p1", "checkout-7d9-a", "resolved", at=60))
    assert h.incidents()[0].state.value == "new"  # p2 still fires
    h.feed(crash(h.alert, "p2", "checkout-7d9-b", "resolved", at=61))
    assert h.incidents()[0].state.value == "resolved"


def test_the_same_group_from_another_sender_is_another_incident(core):
    h = core()
    h.feed(crash(h.alert, "p1", "checkout-7d9-a"),
           crash(h.alert, "s1", "checkout-7d9-a", sender="staging-alertmanager"))
    assert len(h.incidents()) == 2


def test_one_incident_per_alert_is_one_line_of_rules_away(core):
    h = core("rules: []\ndefault: {group_by: [fingerprint]}\n")
    h.feed(crash(h.alert, "p1", "checkout-7d9-a"), crash(h.alert, "p2", "checkout-7d9-b"))
    assert [i.fingerprint for i in h.incidents()] == ["p1", "p2"]


async def test_an_incident_lists_the_resources_of_its_alerts(harness):
    from reasonops_incidents.incident import store

    h = await harness()
    await h.feed(crash(h.alert, "p1", "checkout-7d9-b"), crash(h.alert, "p2", "checkout-7d9-a"),
                 crash(h.alert, "p1", "checkout-7d9-b", at=5))
    async with h.store.read() as session:
        assert await store.resources_of(session, "INC0000001") == [
            "checkout-7d9-a", "checkout-7d9-b"]
