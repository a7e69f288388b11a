"""Escalation timers (also across a restart), major incidents and problems."""

from datetime import timedelta

from reasonops_contracts.incidents import IncidentEscalated, ProblemOpened
from reasonops_incidents.incident import store

POLICY = """
rules:
  - name: checkout
    match: ["service=checkout"]
    group_by: [service]
    assign_to: payments
escalation:
  payments:
    - {after: 10m, to: payments-oncall-l2}
    - {after: 30m, to: head-of-payments}
problems:
  recurrence: 3
  within: 1d
"""


async def _ack(h, incident_id):
    async with h.store.transaction() as tx:
        incident = await store.get_incident(tx.session, incident_id)
        incident.apply("acknowledge", h.clock.now())
        await store.save(tx.session, created=[], changed=[incident])


async def test_unacknowledged_incident_escalates_level_by_level(harness):
    h = await harness(POLICY)
    await h.feed(h.alert("c1"))
    h.clock.advance(timedelta(minutes=10) - timedelta(microseconds=1))
    assert await h.fire_timers() == 0
    h.clock.advance(timedelta(microseconds=1))
    assert await h.fire_timers() == 1
    [incident] = await h.incidents()
    assert incident.escalation_level == 2
    escalated = [e for e in h.emitted if e.type == IncidentEscalated.TYPE]
    assert [(e.data["level"], e.data["target"]) for e in escalated] == [
        (2, "payments-oncall-l2")]
    h.clock.advance(timedelta(minutes=20))
    assert await h.fire_timers() == 1
    assert (await h.incidents())[0].escalation_level == 3
    h.clock.advance(timedelta(hours=5))
    assert await h.fire_timers() == 0  # no level left
    kinds = [e.kind for e in await h.timeline("INC0000001")]
    assert kinds.count("escalated") == 2


async def test_acknowledging_stops_escalation(harness):
    h = await harness(POLICY)
    await h.feed(h.alert("c1"))
    await _ack(h, "INC0000001")
    h.clock.advance(timedelta(hours=1))
    await h.fire_timers()
    assert (await h.incidents())[0].escalation_level == 1


async def test_escalation_timer_survives_a_restart(harness):
    h = await harness(POLICY)
    await h.feed(h.alert("c1"))
    await h.restart()
    h.clock.advance(timedelta(minutes=45))  # both deadlines passed while "down"
    await h.fire_timers()
    await h.fire_timers()
    assert (await h.incidents())[0].escalation_level == 3


async def test_maintenance_window_puts_off_escalation_until_it_ends(harness):
    h = await harness(POLICY)
    await h.feed(h.alert("c1"))
    await h.silence("service=checkout", start=300, end=1200)
    h.clock.advance(timedelta(minutes=10))
    assert await h.fire_timers() == 1
    assert (await h.incidents())[0].escalation_level == 1
    h.clock.advance(timedelta(minutes=10))  # the window ends at 20 min
    assert await h.fire_timers() == 1
    assert (await h.incidents())[0].escalation_level == 2
    kinds = [e.kind for e in await h.timeline("INC0000001")]
    assert kinds.index("escalation_suppressed") < kinds.index("escalated")


async def test_p1_opens_as_a_major_incident(harness):
    h = await harness(POLICY)
    out = await h.feed(h.alert("c1", severity="critical"))
    assert "major_declared" in h.types(out)
    assert (await h.incidents())[0].major is True


async def test_recurring_incidents_open_a_problem_and_link_later_ones(harness):
    h = await harness(POLICY)
    for n in range(3):
        await h.feed(h.alert("c1", at=n * 1000))
        await h.feed(h.alert("c1", "resolved", at=n * 1000 + 10))
        incidents = await h.incidents()
        async with h.store.transaction() as tx:
            incidents[-1].apply("close", h.clock.now())
            await store.save(tx.session, created=[], changed=[incidents[-1]])
    opened = [e for e in h.emitted if e.type == ProblemOpened.TYPE]
    assert len(opened) == 1
    assert opened[0].data["incident_ids"] == ["INC0000001", "INC0000002", "INC0000003"]
    assert opened[0].data["problem_id"] == "PRB0000001"
    await h.feed(h.alert("c1", at=5000))
    incidents = await h.incidents()
    assert [i.problem_id for i in incidents] == ["PRB0000001"] * 4
    assert len([e for e in h.emitted if e.type == ProblemOpened.TYPE]) == 1


async def test_incidents_outside_the_recurrence_window_make_no_problem(harness):
    h = await harness(POLICY)
    for n in range(3):
        await h.feed(h.alert("c1", at=n * 1000))
        await h.feed(h.alert("c1", "resolved", at=n * 1000 + 10))
        incidents = await h.incidents()
        async with h.store.transaction() as tx:
            incidents[-1].apply("close", h.clock.now())
            await store.save(tx.session, created=[], changed=[incidents[-1]])
        h.clock.advance(timedelta(hours=13))  # three within 26h, never three within a day
    assert not [e for e in h.emitted if e.type == ProblemOpened.TYPE]
