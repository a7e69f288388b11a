import re
from datetime import UTC, datetime

import pytest

from reasonops_contracts import Envelope
from reasonops_contracts.incidents import IncidentAcknowledged, IncidentClosed, IncidentOpened
from reasonops_runtime.delivery import Delivery
from reasonops_runtime.routing import EventRouter

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def opened(n):
    return Envelope.wrap(IncidentOpened(
        incident_id=f"INC000000{n}", title="t", severity="critical", impact=1, urgency=1,
        priority=1, priority_reason="r", fingerprint=f"f{n}", opened_at=NOW), source="incidents")


def acked(n):
    return Envelope.wrap(IncidentAcknowledged(incident_id=f"INC000000{n}", actor="a",
                                              acknowledged_at=NOW), source="incidents")


def delivery(envelope, subject=None):
    from reasonops_contracts.registry import EVENTS

    return Delivery(subject=subject or EVENTS[envelope.type].SUBJECT, data=envelope.to_bytes(),
                    key=envelope.id, headers={})


async def test_runs_of_one_type_go_together_and_order_across_types_is_kept():
    router = EventRouter()
    calls = []

    @router.on_many(IncidentOpened)
    async def many(tx, items):
        calls.append(("opened", [e.incident_id for _, e in items]))

    @router.on(IncidentAcknowledged)
    async def one(tx, envelope, event):
        calls.append(("acked", [event.incident_id]))

    batch = [opened(1), opened(2), acked(1), opened(3), acked(3), acked(2)]
    await router(None, [(delivery(e), e) for e in batch])
    assert calls == [("opened", ["INC0000001", "INC0000002"]), ("acked", ["INC0000001"]),
                     ("opened", ["INC0000003"]), ("acked", ["INC0000003"]),
                     ("acked", ["INC0000002"])]
    assert router.subjects == (IncidentAcknowledged.SUBJECT, IncidentOpened.SUBJECT)


async def test_unhandled_types_are_skipped_and_bad_data_is_refused_at_decode():
    router = EventRouter()
    seen = []

    @router.on(IncidentAcknowledged)
    async def one(tx, envelope, event):
        seen.append(event.incident_id)

    closed = Envelope.wrap(IncidentClosed(incident_id="INC0000009", closed_at=NOW, actor="a"),
                           source="incidents")
    await router(None, [(delivery(e), e) for e in (closed, acked(4))])
    assert seen == ["INC0000004"]
    bad = acked(5).model_copy(update={"data": {"incident_id": 5}})
    with pytest.raises(ValueError, match="validation error"):
        router.decode(delivery(bad))


@pytest.mark.parametrize(("subject", "source", "reason"), [
    (IncidentOpened.SUBJECT, "agent-triage", "source 'agent-triage' does not own "
     "itsm.incident.opened (owned by incidents)"),
    ("itsm.slm.penalty.assessed", "incidents", "type itsm.incident.opened.v1 belongs to "
     "itsm.incident.opened, not to itsm.slm.penalty.assessed"),
    (IncidentOpened.SUBJECT, "reasonops-test", "source 'reasonops-test' does not own"),
])
def test_an_envelope_that_does_not_belong_on_its_subject_is_refused(subject, source, reason):
    from reasonops_runtime.routing import Refused

    forged = opened(7).model_copy(update={"source": source})
    with pytest.raises(Refused, match=re.escape(reason)):
        EventRouter().decode(delivery(forged, subject))


def test_a_newer_version_of_a_type_passes_when_it_is_of_the_subjects_domain():
    newer = opened(8).model_copy(update={"type": "itsm.incident.opened.v2"})
    assert EventRouter().decode(delivery(newer, IncidentOpened.SUBJECT)).type.endswith(".v2")
    other = opened(8).model_copy(update={"type": "itsm.slm.sla.started.v9"})
    with pytest.raises(ValueError, match=r"not of the domain of itsm\.incident\.opened"):
        EventRouter().decode(delivery(other, IncidentOpened.SUBJECT))


@pytest.mark.parametrize("reply", [
    "$JS.ACK.INGEST.ingest-raw.1.4711.17.1764500000000000000.3",
    "$JS.ACK.hub.ACCHASH.INGEST.ingest-raw.2.4711.17.1764500000000000000.3.rnd",
])
def test_the_inbox_key_of_a_message_without_an_id_is_its_stream_position(reply):
    from nats.aio.msg import Msg

    from reasonops_runtime.delivery import delivery_of as _delivery

    msg = Msg(_client=None, subject="itsm.ingest.raw.event", reply=reply, data=b"{}")  # type: ignore[arg-type]
    assert _delivery(msg).key == "INGEST:4711"
    assert _delivery(msg).key == f"{msg.metadata.stream}:{msg.metadata.sequence.stream}"
