"""The raw-NATS batch handler: decode rejects what can never be valid, the batch emits events."""

from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from reasonops_contracts import Envelope, subjects
from reasonops_contracts.ingest import EventAccepted
from reasonops_ingest.handlers import RawIntake
from reasonops_ingest.metrics import IngestMetrics
from reasonops_runtime import Delivery, FrozenClock, Store

PAYLOADS = Path(__file__).resolve().parents[3] / "examples" / "payloads"


def delivery(subject: str, data: bytes, key: str = "k1") -> Delivery:
    return Delivery(subject=subject, data=data, key=key, headers={})


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def intake(registry) -> RawIntake:
    return RawIntake(FrozenClock(), IngestMetrics(registry), max_bytes=64 * 1024)


@pytest.fixture
async def store(tmp_path):
    store = Store(f"sqlite+aiosqlite:///{tmp_path / 'ingest.db'}")
    await store.create_all()
    yield store
    await store.close()


async def test_raw_batch_emits_one_accepted_event_per_alert(intake, store, registry):
    firing = delivery(subjects.INGEST_RAW_ALERTMANAGER,
                      (PAYLOADS / "alertmanager-firing.json").read_bytes(), "k1")
    native = delivery(subjects.INGEST_RAW_EVENT, (PAYLOADS / "event.json").read_bytes(), "k2")
    batch = [(d, intake.decode(d)) for d in (firing, native)]
    async with store.transaction() as tx:
        await intake(tx, batch)
    assert {m.subject for m in tx.emitted} == {EventAccepted.SUBJECT}
    events = [Envelope.from_bytes(m.payload).decode(EventAccepted) for m in tx.emitted]
    assert [e.source_format for e in events] == ["alertmanager", "alertmanager", "event"]
    assert [m.message_id for m in tx.emitted] == [Envelope.from_bytes(m.payload).id
                                                  for m in tx.emitted]
    assert registry.get_sample_value("reasonops_ingest_events_total", {
        "format": "alertmanager", "transport": "nats", "outcome": "accepted"}) == 2


@pytest.mark.parametrize(("data", "reason"), [
    (b"{not json", "malformed_json"),
    (b'{"version": "4"}', "invalid_payload"),
    (b" " * (64 * 1024 + 1), "too_large"),
])
def test_decode_raises_value_error_for_payloads_that_never_become_valid(intake, registry, data,
                                                                        reason):
    with pytest.raises(ValueError):  # noqa: PT011 - the kit's contract is ValueError
        intake.decode(delivery(subjects.INGEST_RAW_ALERTMANAGER, data))
    assert registry.get_sample_value("reasonops_ingest_rejected_total", {
        "format": "alertmanager", "transport": "nats", "reason": reason}) == 1


def test_decode_error_names_the_field(intake):
    with pytest.raises(ValueError, match=r"0\.name: Field required"):
        intake.decode(delivery(subjects.INGEST_RAW_EVENT, b'[{"severity": "info"}]'))


def test_accepted_envelope_is_what_envelope_wrap_makes():
    from datetime import UTC, datetime

    from reasonops_ingest.publishing import accepted

    event = EventAccepted(fingerprint="f1", status="firing", name="A", severity="info",
                          summary="s", received_at=datetime(2026, 11, 20, tzinfo=UTC),
                          source_format="event", labels={"a": "\u00e9\"x"})
    out = accepted(event, "sender-id")
    envelope = Envelope.from_bytes(out.payload)
    assert envelope.decode(EventAccepted) == event
    assert (envelope.id, envelope.correlation_id, envelope.subject, envelope.source) == (
        out.envelope_id, out.envelope_id, "f1", "ingest")
    assert envelope.time == event.received_at
    assert (out.msg_id, out.fingerprint, out.status) == ("sender-id", "f1", "firing")


def test_only_pagerduty_input_needs_the_inbox_when_published_directly(intake):
    """PagerDuty changes the dedup_key state; every other raw format published directly is
    stored once by the broker through its input-derived Nats-Msg-Id."""
    async def publish(messages):
        pass

    direct = RawIntake(FrozenClock(), IngestMetrics(CollectorRegistry()), max_bytes=64 * 1024,
                       publish=publish)
    event = delivery(subjects.INGEST_RAW_EVENT, (PAYLOADS / "event.json").read_bytes())
    trigger = delivery(subjects.INGEST_RAW_PAGERDUTY,
                       (PAYLOADS / "pagerduty-trigger.json").read_bytes())
    assert direct.needs_inbox(direct.decode(event)) is False
    assert direct.needs_inbox(direct.decode(trigger)) is True
    assert intake.needs_inbox(intake.decode(event)) is True  # through the outbox


async def test_a_redelivered_raw_input_is_published_under_the_same_msg_ids(registry, store):
    published: list[list[str]] = []

    async def publish(messages):
        published.append([m.msg_id for m in messages])

    intake = RawIntake(FrozenClock(), IngestMetrics(registry), max_bytes=64 * 1024,
                       publish=publish)
    for key in ("k7", "k7", "k8"):  # the same input delivered twice, then another input
        native = delivery(subjects.INGEST_RAW_EVENT, (PAYLOADS / "event.json").read_bytes(), key)
        async with store.transaction() as tx:
            await intake(tx, [(native, intake.decode(native))])
        assert tx.emitted == []
    assert published[0] == published[1]
    assert published[2] != published[0]
