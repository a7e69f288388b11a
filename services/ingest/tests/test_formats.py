import json
from pathlib import Path

import pytest

from reasonops_ingest.formats import Format, PayloadError, parse, parse_alertmanager, parse_events

PAYLOADS = Path(__file__).resolve().parents[3] / "examples" / "payloads"


def problems(raw: bytes, fmt: Format = Format.ALERTMANAGER) -> dict[str, str]:
    with pytest.raises(PayloadError) as caught:
        parse(fmt, raw)
    assert not caught.value.malformed
    return {p.field: p.message for p in caught.value.problems}


def test_sample_webhooks_parse_with_zero_end_time_unset():
    firing = parse_alertmanager((PAYLOADS / "alertmanager-firing.json").read_bytes())
    resolved = parse_alertmanager((PAYLOADS / "alertmanager-resolved.json").read_bytes())
    assert [a.status for a in firing.alerts] == ["firing", "firing"]
    assert all(a.ends_at is None for a in firing.alerts)
    assert [a.fingerprint for a in resolved.alerts] == [a.fingerprint for a in firing.alerts]
    assert all(a.ends_at is not None for a in resolved.alerts)


def test_unknown_fields_are_accepted():
    body = {"version": "4", "notification_reason": "new", "orgId": 1,
            "alerts": [{"status": "firing", "labels": {"alertname": "X"},
                        "silenceURL": "http://grafana/silence", "values": {"A": 1.5}}]}
    assert parse_alertmanager(json.dumps(body).encode()).alerts[0].labels == {"alertname": "X"}


@pytest.mark.parametrize("raw", [b"", b"{", b'{"alerts": [}', b"\xff\xfe", b"nope"])
def test_malformed_json_is_flagged_as_malformed(raw):
    with pytest.raises(PayloadError) as caught:
        parse_alertmanager(raw)
    assert caught.value.malformed
    assert caught.value.reason == "malformed_json"
    assert caught.value.problems[0].message.startswith("not valid JSON")


def test_missing_alerts_is_named():
    assert problems(b'{"version": "4"}') == {"alerts": "Field required"}


def test_empty_alerts_is_rejected():
    assert "alerts" in problems(b'{"alerts": []}')


def test_every_offending_field_is_listed():
    body = {"truncatedAlerts": "many", "commonLabels": [],
            "alerts": [
                {"status": "firing", "labels": {"alertname": "Ok"}},
                {"status": "burning", "labels": {"alertname": "X", "n": 5},
                 "startsAt": "yesterday"},
                {"status": "firing", "labels": {"instance": "a"}, "annotations": "text"},
                "not an alert",
            ]}
    found = problems(json.dumps(body).encode())
    assert set(found) == {
        "truncatedAlerts", "commonLabels", "alerts.1.status", "alerts.1.labels.n",
        "alerts.1.startsAt", "alerts.2.labels", "alerts.2.annotations", "alerts.3",
    }
    assert "alertname" in found["alerts.2.labels"]
    assert "'firing' or 'resolved'" in found["alerts.1.status"]


def test_wrong_top_level_type_is_named_as_root():
    assert set(problems(b'[{"alerts": []}]')) == {"(root)"}


def test_naive_timestamps_are_rejected():
    body = {"alerts": [{"status": "firing", "labels": {"alertname": "X"},
                        "startsAt": "2026-11-20T14:02:11"}]}
    assert set(problems(json.dumps(body).encode())) == {"alerts.0.startsAt"}


def test_native_event_single_or_array():
    [one] = parse_events((PAYLOADS / "event.json").read_bytes())
    assert one.name == "DiskAlmostFull"
    many = parse_events(b' [{"name": "A"}, {"name": "B", "severity": "info"}]')
    assert [e.name for e in many] == ["A", "B"]


def test_native_event_errors_are_indexed_and_complete():
    raw = b'[{"name": "A", "colour": "red"}, {"severity": "loud"}]'
    found = problems(raw, Format.EVENT)
    assert set(found) == {"0.colour", "1.name", "1.severity"}


@pytest.mark.parametrize("raw", [b"[]", b'"DiskFull"', b"42"])
def test_native_payload_must_hold_events(raw):
    assert set(problems(raw, Format.EVENT)) == {"(root)"}


def test_payload_error_message_lists_problems_for_dead_letters():
    with pytest.raises(PayloadError, match=r"invalid payload: alerts: Field required"):
        parse_alertmanager(b"{}")
