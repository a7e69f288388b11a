"""Topology-aware correlation, flapping, silences and maintenance windows."""

CATALOG = """
services:
  - name: checkout
    owner: payments
    tier: 1
    depends_on: [payments-db]
  - name: payments-db
    owner: dba
    tier: 2
  - name: search
    owner: discovery
    tier: 3
"""

FLAPPY = """
flapping: {changes: 3, window: 10m}
"""


async def test_tier_one_service_gets_impact_one_and_catalog_owner(harness):
    h = await harness(catalog=CATALOG)
    await h.feed(h.alert("c1", severity="warning"))
    [incident] = await h.incidents()
    assert (incident.impact, incident.priority) == (1, 2)
    assert "catalog: checkout is tier 1 -> impact 1" in incident.priority_reason
    assert (incident.assignment_group, incident.assignment_source) == ("payments", "catalog")


async def test_dependency_incident_is_the_probable_cause_of_a_later_dependent_one(harness):
    h = await harness(catalog=CATALOG)
    await h.feed(h.alert("db1", service="payments-db", severity="critical", resource="db-1"))
    await h.feed(h.alert("c1", at=120))
    db, checkout = await h.incidents()
    assert checkout.probable_cause["incident_id"] == db.incident_id
    assert checkout.probable_cause["service"] == "payments-db"
    kinds = [e.kind for e in await h.timeline(checkout.incident_id)]
    assert "probable_cause" in kinds


async def test_dependency_alert_after_the_window_is_not_a_cause(harness):
    h = await harness(catalog=CATALOG)
    await h.feed(h.alert("db1", service="payments-db", resource="db-1"))
    await h.feed(h.alert("c1", at=300))  # default window 5m: exactly expired
    assert (await h.incidents())[1].probable_cause is None


async def test_dependency_alert_attaches_to_the_dependents_open_incident(harness):
    h = await harness(catalog=CATALOG)
    await h.feed(h.alert("c1"))
    await h.feed(h.alert("db1", service="payments-db", name="ReplicationLag", at=60))
    [incident] = await h.incidents()
    assert incident.alert_count == 2
    assert incident.probable_cause["service"] == "payments-db"
    assert incident.probable_cause["alert"] == "ReplicationLag"
    assert incident.probable_cause["incident_id"] == ""


async def test_a_search_alert_is_not_attached_to_anything(harness):
    h = await harness(catalog=CATALOG)
    await h.feed(h.alert("c1"), h.alert("s1", service="search", at=1))
    assert len(await h.incidents()) == 2


async def test_flapping_alert_churn_neither_resolves_nor_reopens(harness):
    h = await harness(FLAPPY)
    a = h.alert
    await h.feed(a("f1", service="search"))
    await h.feed(a("f1", "resolved", service="search", at=10))  # change 1: resolves
    await h.feed(a("f1", service="search", at=20))  # change 2: reopens
    await h.feed(a("f1", "resolved", service="search", at=30))  # change 3: resolves
    assert h.types().count("resolved") == 2
    before = list(h.types())
    await h.feed(a("f1", service="search", at=40))  # change 4 > 3: flapping, no reopen
    await h.feed(a("f1", "resolved", service="search", at=50))
    assert h.types() == before
    [incident] = await h.incidents()
    assert incident.state.value == "resolved"
    assert "flapping" in [e.kind for e in await h.timeline("INC0000001")]


async def test_flapping_threshold_is_exclusive(harness):
    h = await harness(FLAPPY)
    a = h.alert
    for i, status in enumerate(["firing", "resolved", "firing", "resolved"]):
        await h.feed(a("f1", status, service="search", at=i * 10))
    # three changes in the window is not more than three: the last resolve counted
    assert (await h.incidents())[0].state.value == "resolved"
    assert "flapping" not in [e.kind for e in await h.timeline("INC0000001")]


async def test_flapping_ends_when_changes_leave_the_window(harness):
    h = await harness(FLAPPY)
    a = h.alert
    for i, status in enumerate(["firing", "resolved", "firing", "resolved", "firing"]):
        await h.feed(a("f1", status, service="search", at=i * 10))
    assert (await h.incidents())[0].state.value == "resolved"  # flapping held it
    await h.feed(a("f1", "resolved", service="search", at=1000))
    await h.feed(a("f1", service="search", at=2000))  # calm again: a real reopen
    assert (await h.incidents())[0].state.value == "new"


async def test_silenced_alert_is_recorded_but_opens_nothing(harness):
    h = await harness()
    await h.silence("service=search", "alertname=~Disk.*")
    out = await h.feed(h.alert("s1", service="search", name="DiskFull"),
                       h.alert("s2", service="search", name="HighLatency"))
    assert h.types(out) == ["opened"]
    [incident] = await h.incidents()
    assert incident.fingerprint == "s2"
    async with h.store.read() as session:
        from reasonops_incidents import store
        [row] = await store.alerts_of_silence(session, "SIL0000001")
        assert (row.fingerprint, row.incident_id, row.name) == ("s1", None, "DiskFull")


async def test_silence_starting_mid_incident_keeps_its_alerts_off_it(harness):
    h = await harness()
    await h.feed(h.alert("s1", service="search"))
    await h.silence("service=search", start=60, end=600)
    await h.feed(h.alert("s1", service="search", at=30))  # before the silence
    await h.feed(h.alert("s1", service="search", at=120), h.alert("s1", service="search",
                                                                  at=130))
    [incident] = await h.incidents()
    assert incident.alert_count == 2
    entries = [e.kind for e in await h.timeline(incident.incident_id)]
    assert entries.count("alert_silenced") == 1
    # a resolve is let through: it pages no one
    await h.feed(h.alert("s1", "resolved", service="search", at=200))
    assert (await h.incidents())[0].state.value == "resolved"


async def test_silence_ending_mid_incident_lets_alerts_through_again(harness):
    h = await harness()
    await h.silence("service=search", start=0, end=600)
    await h.feed(h.alert("s1", service="search", at=10))
    assert await h.incidents() == []
    await h.feed(h.alert("s1", service="search", at=599))
    assert await h.incidents() == []
    await h.feed(h.alert("s1", service="search", at=600))  # ends_at is exclusive
    [incident] = await h.incidents()
    assert (incident.alert_count, incident.firing_alerts) == (1, 1)
    await h.feed(h.alert("s1", "resolved", service="search", at=700))
    assert (await h.incidents())[0].state.value == "resolved"


async def test_probable_cause_found_within_one_batch(harness):
    h = await harness(catalog=CATALOG)
    await h.feed(h.alert("db1", service="payments-db", resource="db-1"), h.alert("c1", at=5))
    db, checkout = await h.incidents()
    assert checkout.probable_cause["incident_id"] == db.incident_id


def test_assignment_precedence_is_configurable_and_people_win():
    from reasonops_incidents.correlation import choose_assignment, outranks

    candidates = {"rule": None, "catalog": "payments", "triage": "dba"}
    assert choose_assignment(("rule", "catalog", "triage"), candidates) == (
        "payments", "catalog")
    assert choose_assignment(("triage", "rule", "catalog"), candidates) == ("dba", "triage")
    assert outranks(("triage", "catalog"), "triage", "catalog")
    assert not outranks(("rule", "catalog", "triage"), "triage", "catalog")
    assert not outranks(("triage",), "triage", "user")
    assert outranks(("rule",), "triage", None)
