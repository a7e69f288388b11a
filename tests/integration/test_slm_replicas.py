"""Two SLM replicas on one nats-server and one database: every clock breaches once."""

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from reasonops_contracts import Envelope
from reasonops_contracts.incidents import IncidentOpened
from reasonops_contracts.slm import PenaltyAssessed, SlaAtRisk, SlaBreached
from reasonops_runtime import FrozenClock
from reasonops_runtime.jetstream import drained
from reasonops_slm.app import SlmSettings
from reasonops_slm.app import build_service as build_slm
from tests.support import publish_all, stream_messages, wait_for

pytestmark = pytest.mark.nats

CONTRACTS = """
contracts:
  - {id: ACME, supplier: Acme, services: [checkout], currency: EUR, penalties: {P1: 500.00}}
"""
T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
INCIDENTS = 40


def opened(n: int) -> Envelope:
    incident_id = f"INC{n:07d}"
    event = IncidentOpened(incident_id=incident_id, title="down", service="checkout",
                           severity="critical", impact=1, urgency=1, priority=1,
                           priority_reason="test", fingerprint=f"fp-{n}", opened_at=T0)
    return Envelope.wrap(event, source="incidents", subject=incident_id)


async def test_two_replicas_breach_each_clock_exactly_once(nc, start_service, tmp_path):
    contracts = tmp_path / "contracts.yaml"
    contracts.write_text(CONTRACTS)
    clock = FrozenClock(T0)
    for _ in range(2):
        await start_service(build_slm, SlmSettings, clock=clock, supplier_contracts=contracts)
    await publish_all(nc, [opened(n) for n in range(1, INCIDENTS + 1)])
    js = nc.jetstream()
    await drained(js, "INCIDENTS", "slm")
    # Past every deadline (P1: 15 minutes and 4 hours) in one jump: both replicas race
    # for the same timers.
    clock.set(T0 + timedelta(hours=5))

    breaches = await wait_for(lambda: stream_messages(nc, "SLM", SlaBreached.SUBJECT),
                              check=lambda found: len(found) >= 2 * INCIDENTS, timeout=30)
    penalties = await wait_for(lambda: stream_messages(nc, "SLM", PenaltyAssessed.SUBJECT),
                               check=lambda found: len(found) >= 2 * INCIDENTS, timeout=30)
    # Let any straggler show itself before counting.
    clock.advance(timedelta(seconds=1))
    await wait_for(lambda: js.consumer_info("INCIDENTS", "slm"),
                   check=lambda i: i.num_ack_pending == 0)
    breaches = await stream_messages(nc, "SLM", SlaBreached.SUBJECT)
    penalties = await stream_messages(nc, "SLM", PenaltyAssessed.SUBJECT)
    per_clock = Counter(e.decode(SlaBreached).clock_id for e in breaches)
    assert len(per_clock) == 2 * INCIDENTS
    assert set(per_clock.values()) == {1}
    assert Counter(e.decode(PenaltyAssessed).clock_id for e in penalties) == per_clock
    warnings = Counter((w.clock_id, w.percent) for w in (
        e.decode(SlaAtRisk) for e in await stream_messages(nc, "SLM", SlaAtRisk.SUBJECT)))
    assert len(warnings) == 3 * 2 * INCIDENTS
    assert set(warnings.values()) == {1}
