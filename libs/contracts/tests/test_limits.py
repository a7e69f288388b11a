"""An accepted event always fits storage: free text cut with a marker, long keys replaced
by a stable digest, NULs removed, a long service refused."""

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from reasonops_contracts import limits
from reasonops_contracts.ingest import EventAccepted

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


def accepted(**fields):
    return EventAccepted(**{"fingerprint": "fp", "status": "firing", "name": "DiskFull",
                            "severity": "error", "summary": "disk", "received_at": NOW,
                            "source_format": "event", **fields})


def test_free_text_is_cut_with_a_marker_and_keys_become_digests():
    event = accepted(name="N" * 5000, summary="s\x00" * 2000, group_key="g" * 100_000,
                     labels={"k" * 300: "v" * 10_000, "pod": "a\x00b"})
    assert len(event.name) == limits.NAME
    assert event.name.endswith(limits.MARKER)
    assert "\x00" not in event.summary
    assert len(event.summary) == limits.SUMMARY
    assert event.group_key is not None
    assert event.group_key.startswith(limits.DIGEST_PREFIX)
    assert len(event.group_key) <= limits.GROUP_KEY
    assert event.group_key == accepted(group_key="g" * 100_000).group_key  # stable
    assert event.labels["pod"] == "ab"
    (long_name,) = [k for k in event.labels if k != "pod"]
    assert len(long_name) == limits.LABEL_NAME
    assert len(event.labels[long_name]) == limits.LABEL_VALUE
    # Any one name or value out of bounds is enough for the map to be cleaned.
    assert accepted(annotations={"ok": "fine", "a\x00b": "x"}).annotations == {
        "ok": "fine", "ab": "x"}
    assert accepted(annotations={"v": "v" * 5000}).annotations["v"].endswith(limits.MARKER)


def test_values_within_the_limits_are_left_alone():
    event = accepted(name="DiskFull", group_key="{}:{alertname=\"DiskFull\"}",
                     labels={"pod": "db-1"})
    assert (event.name, event.group_key, event.labels) == (
        "DiskFull", "{}:{alertname=\"DiskFull\"}", {"pod": "db-1"})
    again = EventAccepted.model_validate_json(accepted(name="x" * 999).model_dump_json())
    assert again.name == accepted(name="x" * 999).name  # idempotent when read again


def test_a_service_beyond_its_limit_is_refused():
    with pytest.raises(ValidationError, match="at most 256 characters"):
        accepted(service="s" * (limits.SERVICE + 1))
