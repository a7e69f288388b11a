from datetime import UTC, datetime, timedelta, timezone

import pytest

from reasonops_contracts.ingest import NativeEvent
from reasonops_ingest import domain
from reasonops_ingest.formats import AlertmanagerWebhook

RECEIVED = datetime(2026, 11, 20, 14, 3, tzinfo=UTC)
CET = timezone(timedelta(hours=1))


def webhook(*alerts: dict) -> AlertmanagerWebhook:
    return AlertmanagerWebhook.model_validate({"version": "4", "groupKey": "g1",
                                               "alerts": list(alerts)})


def alert(labels: dict | None = None, annotations: dict | None = None, **extra) -> dict:
    return {"status": "firing", "labels": {"alertname": "DiskFull", **(labels or {})},
            "annotations": annotations or {}, **extra}


@pytest.mark.parametrize(("word", "expected"), [
    ("critical", "critical"), ("CRITICAL", "critical"), ("page", "critical"), ("P1", "critical"),
    ("sev1", "critical"), ("error", "error"), ("high", "error"), ("major", "error"),
    ("p2", "error"), ("warning", "warning"), ("warn", "warning"), ("medium", "warning"),
    ("minor", "warning"), ("info", "info"), ("low", "info"), ("none", "info"),
    (" Info ", "info"), ("p4", "info"),
])
def test_severity_words_map_onto_the_canonical_scale(word, expected):
    assert domain.canonical_severity(word) == expected


@pytest.mark.parametrize("word", [None, "", "bananas", "p9"])
def test_missing_or_unknown_severity_is_warning(word):
    assert domain.canonical_severity(word) == "warning"


def test_severity_label_wins_over_priority_label():
    assert domain.severity_from_labels({"severity": "info", "priority": "p1"}) == "info"
    assert domain.severity_from_labels({"priority": "p1"}) == "critical"
    assert domain.severity_from_labels({}) == "warning"


def test_label_fingerprint_ignores_label_order():
    a = {"alertname": "DiskFull", "instance": "db-1:9100", "job": "node"}
    b = dict(reversed(list(a.items())))
    assert domain.label_fingerprint(a) == domain.label_fingerprint(b)


def test_label_fingerprint_is_sha256_of_sorted_pairs_first_16_hex():
    # Pinned so a change of the algorithm (which would split incidents) is noticed:
    # printf %s '[["a","1"],["b","2"]]' | sha256sum
    assert domain.label_fingerprint({"b": "2", "a": "1"}) == "5f13efef7cdd95e7"
    assert len(domain.label_fingerprint({})) == 16


def test_label_fingerprint_changes_with_any_name_or_value():
    base = domain.label_fingerprint({"alertname": "DiskFull", "instance": "db-1"})
    assert domain.label_fingerprint({"alertname": "DiskFull", "instance": "db-2"}) != base
    assert domain.label_fingerprint({"alertname": "DiskFull", "pod": "db-1"}) != base
    # no ambiguity between "a=b,c" style concatenations
    assert (domain.label_fingerprint({"a": "b,c=d"})
            != domain.label_fingerprint({"a": "b", "c": "d"}))


def test_alertmanager_alert_becomes_one_normalised_event():
    hook = webhook(alert({"severity": "page", "service": "checkout", "job": "checkout-api",
                          "instance": "10.0.0.1:8080", "pod": "checkout-1"},
                         {"summary": "5xx above SLO", "description": "7% errors"},
                         fingerprint="a3c91e0f5d27b846", generatorURL="http://prom/graph",
                         startsAt="2026-11-20T15:02:11+01:00",
                         endsAt="0001-01-01T00:00:00Z"))
    [event] = domain.from_alertmanager(hook, received_at=RECEIVED)
    assert event.fingerprint == "a3c91e0f5d27b846"
    assert (event.name, event.status, event.severity) == ("DiskFull", "firing", "critical")
    assert (event.service, event.resource) == ("checkout", "10.0.0.1:8080")
    assert event.summary == "5xx above SLO"
    assert event.description == "7% errors"
    assert event.starts_at == datetime(2026, 11, 20, 14, 2, 11, tzinfo=UTC)
    assert event.starts_at.utcoffset() == timedelta(0)
    assert event.ends_at is None
    assert event.received_at == RECEIVED
    assert (event.source_format, event.group_key) == ("alertmanager", "g1")
    assert event.generator_url == "http://prom/graph"


def test_alertmanager_fallbacks_job_pod_description_and_name():
    hook = webhook(alert({"job": "node", "pod": "web-1"}, {"description": "disk 97%"}),
                   alert({"host": "db-3"}))
    first, second = domain.from_alertmanager(hook, received_at=RECEIVED)
    assert (first.service, first.resource, first.summary) == ("node", "web-1", "disk 97%")
    assert (second.service, second.resource, second.summary) == (None, "db-3", "DiskFull")
    assert second.severity == "warning"


def test_alertmanager_without_fingerprint_gets_the_label_hash():
    labels = {"alertname": "DiskFull", "instance": "db-1:9100"}
    hook = webhook(alert(labels), alert(labels, fingerprint=""))
    first, second = domain.from_alertmanager(hook, received_at=RECEIVED)
    assert first.fingerprint == second.fingerprint == domain.label_fingerprint(labels)


def test_mixed_firing_and_resolved_alerts_keep_their_own_status():
    hook = webhook(alert({"instance": "a"}),
                   {**alert({"instance": "b"}), "status": "resolved",
                    "endsAt": "2026-11-20T14:31:46Z"})
    firing, resolved = domain.from_alertmanager(hook, received_at=RECEIVED)
    assert (firing.status, resolved.status) == ("firing", "resolved")
    assert resolved.ends_at == datetime(2026, 11, 20, 14, 31, 46, tzinfo=UTC)


def test_native_event_explicit_fields_win_over_labels():
    event = NativeEvent(name="DiskFull", severity="error", service="billing", resource="db-2",
                        summary="93% full", labels={"service": "other", "severity": "p1"},
                        starts_at=datetime(2026, 11, 20, 15, 0, tzinfo=CET))
    accepted = domain.from_native(event, received_at=RECEIVED)
    assert (accepted.severity, accepted.service, accepted.resource) == ("error", "billing", "db-2")
    assert accepted.summary == "93% full"
    assert accepted.starts_at == datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
    assert accepted.source_format == "event"


def test_native_event_without_severity_takes_it_from_labels():
    event = NativeEvent(name="DiskFull", labels={"severity": "page", "job": "node",
                                                 "instance": "db-1"})
    accepted = domain.from_native(event, received_at=RECEIVED)
    assert (accepted.severity, accepted.service, accepted.resource) == ("critical", "node", "db-1")
    assert accepted.summary == "DiskFull"


def test_native_fingerprint_is_stable_and_given_one_is_kept():
    one = NativeEvent(name="DiskFull", service="billing", labels={"env": "prod", "disk": "sda"})
    same = NativeEvent(name="DiskFull", service="billing", labels={"disk": "sda", "env": "prod"},
                       status="resolved", summary="other words")
    other = NativeEvent(name="DiskFull", service="shop", labels={"env": "prod", "disk": "sda"})
    fp = domain.from_native(one, received_at=RECEIVED).fingerprint
    assert fp == domain.from_native(same, received_at=RECEIVED).fingerprint
    assert fp != domain.from_native(other, received_at=RECEIVED).fingerprint
    assert fp == domain.label_fingerprint({"env": "prod", "disk": "sda", "alertname": "DiskFull",
                                           "service": "billing"})
    given = NativeEvent(name="DiskFull", fingerprint="my-key")
    assert domain.from_native(given, received_at=RECEIVED).fingerprint == "my-key"
