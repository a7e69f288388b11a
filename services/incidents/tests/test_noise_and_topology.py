"""Topology-aware correlation, flapping, silences and maintenance windows, as plain calls on
the correlation engine (and one on the stored service: what a silence matched is kept)."""

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


def test_tier_one_service_gets_impact_one_and_catalog_owner(core):
    h = core(catalog=CATALOG)
    h.feed(h.alert("c1", severity="warning"))
    [incident] = h.incidents()
    assert (incident.impact, incident.priority) == (1, 2)
    assert "catalog: checkout is tier 1 -> impact 1" in incident.priority_reason
    assert (incident.assignment_group, incident.assignment_source) == ("payments", "catalog")


def test_dependency_incident_is_the_probable_cause_of_a_later_dependent_one(core):
    h = core(catalog=CATALOG)
    h.feed(h.alert("db1", service="payments-db", severity="critical", resource="db-1"))
    h.feed(h.alert("c1", at=120))
    db, checkout = h.incidents()
    assert checkout.probable_cause["incident_id"] == db.incident_id
    assert checkout.probable_cause["service"] == "payments-db"
    kinds = [e.kind for e in h.timeline(checkout.incident_id)]
    assert "probable_cause" in kinds


def test_dependency_alert_after_the_window_is_not_a_cause(core):
    h = core(catalog=CATALOG)
    h.feed(h.alert("db1", service="payments-db", resource="db-1"))
    h.feed(h.alert("c1", at=300))  # default window 5m: exactly expired
    assert (h.incidents())[1].probable_cause is None


def test_dependency_alert_attaches_to_the_dependents_open_incident(core):
    h = core(catalog=CATALOG)
    h.feed(h.alert("c1"))
    h.feed(h.alert("db1", service="payments-db", name="ReplicationLag", at=60))
    [incident] = h.incidents()
    assert incident.alert_count == 2
    assert incident.probable_cause["service"] == "payments-db"
    assert incident.probable_cause["alert"] == "ReplicationLag"
    assert incident.probable_cause["incident_id"] == ""


def test_a_search_alert_is_not_attached_to_anything(core):
    h = core(catalog=CATALOG)
    h.feed(h.alert("c1"), h.alert("s1", service="search", at=1))
    assert len(h.incidents()) == 2


def test_flapping_alert_churn_neither_resolves_nor_reopens(core):
    h = core(FLAPPY)
    a = h.alert
    h.feed(a("f1", service="search"))
    h.feed(a("f1", "resolved", service="search", at=10))  # change 1: resolves
    h.feed(a("f1", service="search", at=20))  # change 2: reopens
    h.feed(a("f1", "resolved", service="search", at=30))  # change 3: resolves
    assert h.types().count("resolved") == 2
    before = list(h.types())
    h.feed(a("f1", service="search", at=40))  # change 4 > 3: flapping, no reopen
    h.feed(a("f1", "resolved", service="search", at=50))
    assert h.types() == before
    [incident] = h.incidents()
    assert incident.state.value == "resolved"
    assert "flapping" in [e.kind for e in h.timeline("INC0000001")]


def test_flapping_threshold_is_exclusive(core):
    h = core(FLAPPY)
    a = h.alert
    for i, status in enumerate(["firing", "resolved", "firing", "resolved"]):
        h.feed(a("f1", status, service="search", at=i * 10))
    # three changes in the window is not more than three: the last resolve counted
    assert (h.incidents())[0].state.value == "resolved"
    assert "flapping" not in [e.kind for e in h.timeline("INC0000001")]


def test_flapping_ends_when_changes_leave_the_window(core):
    h = core(FLAPPY)
    a = h.alert
    for i, status in enumerate(["firing", "resolved", "firing", "resolved", "firing"]):
        h.feed(a("f1", status, service="search", at=i * 10))
    assert (h.incidents())[0].state.value == "resolved"  # flapping held it
    h.feed(a("f1", "resolved", service="search", at=1000))
    h.feed(a("f1", service="search", at=2000))  # calm again: a real reopen
    assert (h.incidents())[0].state.value == "new"


async def test_silenced_alert_is_recorded_but_opens_nothing(harness):
    h = await harness()
    await h.silence("service=search", "alertname=~Disk.*")
    out = await h.feed(h.alert("s1", service="search", name="DiskFull"),
                       h.alert("s2", service="search", name="HighLatency"))
    assert h.types(out) == ["opened"]
    [incident] = await h.incidents()
    assert incident.fingerprint == "s2"
    async with h.store.read() as session:
        from reasonops_incidents.incident import store
        [row] = await store.alerts_of_silence(session, "SIL0000001")
        assert (row.fingerprint, row.incident_id, row.name) == ("s1", None, "DiskFull")


def test_silence_starting_mid_incident_keeps_its_alerts_off_it(core):
    h = core()
    h.feed(h.alert("s1", service="search"))
    h.silence("service=search", start=60, end=600)
    h.feed(h.alert("s1", service="search", at=30))  # before the silence
    h.feed(h.alert("s1", service="search", at=120), h.alert("s1", service="search",
                                                                  at=130))
    [incident] = h.incidents()
    assert incident.alert_count == 2
    entries = [e.kind for e in h.timeline(incident.incident_id)]
    assert entries.count("alert_silenced") == 1
    # a resolve is let through: it pages no one
    h.feed(h.alert("s1", "resolved", service="search", at=200))
    assert (h.incidents())[0].state.value == "resolved"


def test_silence_ending_mid_incident_lets_alerts_through_again(core):
    h = core()
    h.silence("service=search", start=0, end=600)
    h.feed(h.alert("s1", service="search", at=10))
    assert h.incidents() == []
    h.feed(h.alert("s1", service="search", at=599))
    assert h.incidents() == []
    h.feed(h.alert("s1", service="search", at=600))  # ends_at is exclusive
    [incident] = h.incidents()
    assert (incident.alert_count, incident.firing_alerts) == (1, 1)
    h.feed(h.alert("s1", "resolved", service="search", at=700))
    assert (h.incidents())[0].state.value == "resolved"


def test_probable_cause_found_within_one_batch(core):
    h = core(catalog=CATALOG)
    h.feed(h.alert("db1", service="payments-db", resource="db-1"), h.alert("c1", at=5))
    db, checkout = h.incidents()
    assert checkout.probable_cause["incident_id"] == db.incident_id


def test_assignment_precedence_is_configurable_and_people_win():
    from reasonops_incidents.incident.correlation import choose_assignment, outranks

    candidates = {"rule": None, "catalog": "payments", "triage": "dba"}
    assert choose_assignment(("rule", "catalog", "triage"), candidates) == (
        "payments", "catalog")
    assert choose_assignment(("triage", "rule", "catalog"), candidates) == ("dba", "triage")
    assert outranks(("triage", "catalog"), "triage", "catalog")
    assert not outranks(("rule", "catalog", "triage"), "triage", "catalog")
    assert not outranks(("triage",), "triage", "user")
    assert outranks(("rule",), "triage", None)


async def test_the_stored_service_decides_as_the_engine_does(harness, core):
    """The loader gives the engine all it consults: topology across batches, pending
    groups, reopens, flapping and silences come out the same stored as in memory."""
    rules = FLAPPY + """
rules:
  - name: db
    match: ["service=payments-db"]
    group_by: [service]
    window: 10m
    create_on: {resources: 2}
"""
    a = core.alert
    batches = [
        [a("d1", service="payments-db", resource="db-1")],
        [a("c1", at=5), a("d2", service="payments-db", resource="db-2", at=6)],
        [a("d3", service="payments-db", resource="db-3", at=7), a("s1", service="search", at=8)],
        [a("s1", "resolved", service="search", at=20), a("c1", "resolved", at=21)],
        [a("s1", service="search", at=30), a("c1", at=40), a("c2", at=41)],
        [a(f"x{i}", service="search", at=50 + i) for i in range(3)]
        + [a("x1", "resolved", service="search", at=60)],
    ]
    stored, memory = await harness(rules, CATALOG), core(rules, CATALOG)
    await stored.silence("service=search", "fingerprint=x2", start=0, end=None)
    memory.silence("service=search", "fingerprint=x2", start=0, end=None)
    for batch in batches:
        assert stored.types(await stored.feed(*batch)) == memory.types(memory.feed(*batch))

    def shape(incidents):
        return [(i.incident_id, i.state.value, i.service, i.alert_count, i.firing_alerts,
                 i.priority, i.assignment_group, (i.probable_cause or {}).get("service"))
                for i in incidents]
    assert shape(await stored.incidents()) == shape(memory.incidents())
    for incident in memory.incidents():
        assert [e.kind for e in await stored.timeline(incident.incident_id)] == [
            e.kind for e in memory.timeline(incident.incident_id)]
