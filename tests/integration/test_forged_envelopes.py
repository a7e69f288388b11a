"""An envelope that does not belong on its subject is dead-lettered with the reason and
changes nothing: finance books no penalty that slm did not assess."""

from datetime import UTC, datetime

import pytest

from reasonops_contracts import Envelope, subjects
from reasonops_contracts.deadletter import MessageDeadLettered
from reasonops_contracts.finance import LedgerEntryList, ListLedgerEntries
from reasonops_contracts.incidents import IncidentOpened
from reasonops_finance.app import FinanceSettings, build_service
from reasonops_runtime.client import request
from tests.integration.test_finance_flow import drained, penalty
from tests.support import stream_messages, wait_for

pytestmark = pytest.mark.nats


async def publish(nc, envelope: Envelope, subject: str) -> None:
    await nc.jetstream().publish(subject, envelope.to_bytes(), headers=envelope.headers())


async def parked(nc, count: int) -> list[MessageDeadLettered]:
    found = await wait_for(lambda: stream_messages(nc, "DEADLETTER",
                                                   subjects.dead_letter("finance")),
                           check=lambda found: len(found) >= count)
    return [e.decode(MessageDeadLettered) for e in found]


async def entries(nc) -> list:
    return (await request(nc, ListLedgerEntries(), LedgerEntryList)).items


async def test_a_penalty_from_a_service_that_does_not_own_it_is_dead_lettered(nc, start_service):
    await start_service(build_service, FinanceSettings)
    forged = penalty("PEN-INC0000001-response-1").model_copy(update={"source": "agent-triage"})
    await publish(nc, forged, subjects.PENALTY_ASSESSED)

    [letter] = await parked(nc, 1)
    assert letter.error == ("refused: source 'agent-triage' does not own "
                            "itsm.slm.penalty.assessed (owned by slm)")
    assert letter.original_subject == subjects.PENALTY_ASSESSED
    assert forged.id in letter.payload  # the whole message is kept, to look at or replay
    await drained(nc)
    assert await entries(nc) == []

    # The same penalty from slm itself is booked: the consumer refused one message only.
    genuine = penalty("PEN-INC0000001-response-1")
    await publish(nc, genuine, subjects.PENALTY_ASSESSED)
    booked = await wait_for(lambda: entries(nc))
    assert [e.causation_id for e in booked] == [genuine.id]


async def test_an_event_of_another_type_on_the_penalty_subject_is_dead_lettered(
        nc, start_service):
    await start_service(build_service, FinanceSettings)
    other = Envelope.wrap(IncidentOpened(
        incident_id="INC0000001", title="t", severity="critical", impact=1, urgency=1,
        priority=1, priority_reason="r", fingerprint="f", opened_at=datetime.now(UTC)),
        source="slm")
    await publish(nc, other, subjects.PENALTY_ASSESSED)

    [letter] = await parked(nc, 1)
    assert letter.error == ("refused: type itsm.incident.opened.v1 belongs to "
                            "itsm.incident.opened, not to itsm.slm.penalty.assessed")
    await drained(nc)
    assert await entries(nc) == []
