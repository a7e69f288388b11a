from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from reasonops_contracts import Envelope, incident_number, new_id
from reasonops_contracts.incidents import AcknowledgeIncident, IncidentResolved
from reasonops_contracts.registry import COMMANDS, EVENTS, QUERIES
from reasonops_contracts.streams import ALL_STREAMS, DOMAIN_STREAMS, stream_for


def test_ids_are_unique_and_sort_by_creation_time():
    ids = [new_id() for _ in range(1000)]
    assert len(set(ids)) == 1000
    assert all(len(i) == 26 for i in ids)
    first, later = new_id(), None
    import time

    time.sleep(0.002)
    later = new_id()
    assert first < later


def test_incident_numbers_are_zero_padded():
    assert incident_number(1) == "INC0000001"
    with pytest.raises(ValueError, match="starts at 1"):
        incident_number(0)


def test_envelope_round_trips_and_keeps_causality():
    event = IncidentResolved(incident_id="INC0000001", resolved_at=datetime.now(UTC),
                             actor="alice")
    first = Envelope.wrap(event, source="incidents", subject="INC0000001")
    assert first.correlation_id == first.id
    assert first.headers()["Nats-Msg-Id"] == first.id
    again = Envelope.from_bytes(first.to_bytes())
    assert again.decode(IncidentResolved) == event
    child = first.caused(event, source="slm")
    assert child.correlation_id == first.correlation_id
    assert child.causation_id == first.id


def test_decode_refuses_a_different_type():
    event = IncidentResolved(incident_id="INC0000001", resolved_at=datetime.now(UTC), actor="a")
    envelope = Envelope.wrap(event, source="x")
    from reasonops_contracts.incidents import IncidentClosed

    with pytest.raises(ValueError, match="is not"):
        envelope.decode(IncidentClosed)


def test_commands_reject_unknown_fields_and_bad_ids():
    with pytest.raises(ValidationError) as err:
        AcknowledgeIncident(incident_id="42", actr="bob")  # type: ignore[call-arg]
    fields = {e["loc"][0] for e in err.value.errors()}
    assert fields == {"incident_id", "actr"}


def test_every_event_is_stored_by_exactly_one_domain_stream():
    for model in EVENTS.values():
        if model.SUBJECT.endswith(">"):
            continue
        owners = [s.name for s in DOMAIN_STREAMS if model.SUBJECT in s.subjects]
        assert len(owners) == 1, (model, owners)
        assert stream_for(model.SUBJECT).name == owners[0]


def test_request_reply_subjects_are_never_captured_by_a_stream():
    # A stream capturing a request subject would answer it with a PubAck.
    for subject in [*COMMANDS, *QUERIES]:
        with pytest.raises(KeyError):
            stream_for(subject)


def test_audit_sources_every_domain_stream_but_dead_letters():
    audit = next(s for s in ALL_STREAMS if s.name == "AUDIT")
    assert set(audit.sources) == {s.name for s in DOMAIN_STREAMS} - {"DEADLETTER"}
