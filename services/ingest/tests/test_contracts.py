"""Contract tests per format, from the formats' published field lists and sample payloads:
every required field missing in turn, wrong types, oversize values, unknown extra fields,
empty alert lists, mixed firing/resolved batches."""

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from reasonops_ingest import cloudevents, domain, pagerduty
from reasonops_ingest.formats import PayloadError, parse_alertmanager, parse_events, parse_grafana

PAYLOADS = Path(__file__).resolve().parents[3] / "examples" / "payloads"
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def sample(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / name).read_text())


def pd_trigger() -> dict[str, Any]:
    return {**sample("pagerduty-trigger.json"), "routing_key": "k" * 32}


def pd_change() -> dict[str, Any]:
    return {"routing_key": "k" * 32, "payload": {
        "summary": "Deployed checkout v2", "source": "argo", "timestamp": "2026-11-20T10:00:00Z",
        "custom_details": {"version": "2"}}, "links": [{"href": "https://ci/1"}]}


Parser = Callable[[bytes], Any]
FORMATS: dict[str, tuple[Parser, Callable[[], Any]]] = {
    "alertmanager": (parse_alertmanager, lambda: sample("alertmanager-firing.json")),
    "grafana": (parse_grafana, lambda: sample("grafana-alerting.json")),
    "event": (parse_events, lambda: sample("event.json")),
    "pagerduty": (pagerduty.parse_event, pd_trigger),
    "change": (pagerduty.parse_change, pd_change),
    "cloudevents": (cloudevents.parse_structured, lambda: sample("cloudevent-structured.json")),
}

REQUIRED: dict[str, list[str]] = {
    "alertmanager": ["alerts", "alerts.0.status", "alerts.0.labels", "alerts.0.labels.alertname"],
    "grafana": ["alerts", "alerts.0.status", "alerts.0.labels", "alerts.0.labels.alertname"],
    "event": ["name"],
    "pagerduty": ["routing_key", "event_action", "payload", "payload.summary", "payload.source",
                  "payload.severity"],
    "change": ["routing_key", "payload", "payload.summary"],
    "cloudevents": ["id", "source", "specversion", "type"],
}

WRONG_TYPES: dict[str, list[tuple[str, Any]]] = {
    "alertmanager": [("alerts", "many"), ("alerts.0.labels", ["a"]), ("truncatedAlerts", -1),
                     ("alerts.0.startsAt", "yesterday"), ("alerts.0.status", "burning"),
                     ("groupLabels", 3)],
    "grafana": [("alerts.0.values", {"B": "high"}), ("orgId", "one"), ("alerts", {})],
    "event": [("severity", "loud"), ("labels", {"a": 1}), ("starts_at", "2026-11-20T10:00:00"),
              ("status", True)],
    "pagerduty": [("event_action", "explode"), ("payload.severity", "fatal"),
                  ("payload.custom_details", "text"), ("payload.timestamp", 12),
                  ("links", {"href": "x"})],
    "change": [("payload", "deploy"), ("payload.custom_details", [1]), ("links", "x")],
    "cloudevents": [("specversion", "0.3"), ("time", "noon"), ("data.labels", {"a": [1]}),
                    ("data.status", "open"), ("id", 7)],
}

OVERSIZE: dict[str, list[tuple[str, Any]]] = {
    "alertmanager": [("alerts.0.fingerprint", "f" * 129)],
    "grafana": [("alerts.0.fingerprint", "f" * 129)],
    "event": [("name", "n" * 257), ("summary", "s" * 1025), ("description", "d" * 8193)],
    "pagerduty": [("payload.summary", "s" * 1025), ("dedup_key", "d" * 256),
                  ("routing_key", "k" * 33), ("payload.source", "s" * 1025)],
    "change": [("payload.summary", "s" * 1025), ("routing_key", "k" * 31)],
    "cloudevents": [("type", "t" * 257), ("data.summary", "s" * 1025), ("id", "i" * 1025)],
}


def _path(doc: Any, dotted: str) -> tuple[Any, str | int]:
    *parents, last = dotted.split(".")
    for part in parents:
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    return doc, int(last) if isinstance(doc, list) else last


def without(doc: dict[str, Any], dotted: str) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    parent, key = _path(doc, dotted)
    del parent[key]
    return doc


def setting(doc: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    parent, key = _path(doc, dotted)
    parent[key] = value
    return doc


def problem_named(parser: Parser, doc: Any, field: str) -> PayloadError:
    with pytest.raises(PayloadError) as rejected:
        parser(json.dumps(doc).encode())
    parent, _, last = field.rpartition(".")
    named = [p for p in rejected.value.problems
             if p.field == field or p.field.startswith(f"{field}.") or field in p.message
             or (p.field == parent and last in p.message)]
    assert named, f"{field} not named in {rejected.value}"
    return rejected.value


@pytest.mark.parametrize("fmt", FORMATS)
def test_samples_are_accepted(fmt):
    parser, make = FORMATS[fmt]
    assert parser(json.dumps(make()).encode())


@pytest.mark.parametrize(("fmt", "field"), [(f, r) for f, fields in REQUIRED.items()
                                            for r in fields])
def test_every_required_field_missing_in_turn_is_named(fmt, field):
    parser, make = FORMATS[fmt]
    problem_named(parser, without(make(), field), field)


@pytest.mark.parametrize(("fmt", "field", "value"), [(f, n, v) for f, cases in WRONG_TYPES.items()
                                                     for n, v in cases])
def test_wrong_types_are_named(fmt, field, value):
    parser, make = FORMATS[fmt]
    problem_named(parser, setting(make(), field, value), field)


@pytest.mark.parametrize(("fmt", "field", "value"), [(f, n, v) for f, cases in OVERSIZE.items()
                                                     for n, v in cases])
def test_oversize_values_are_named(fmt, field, value):
    parser, make = FORMATS[fmt]
    problem_named(parser, setting(make(), field, value), field)


@pytest.mark.parametrize("fmt", sorted(set(FORMATS) - {"event"}))
def test_unknown_extra_fields_are_accepted(fmt):
    parser, make = FORMATS[fmt]
    doc = make()
    doc["x_vendor_extension"] = {"nested": [1, 2]}
    assert parser(json.dumps(doc).encode())


def test_native_events_refuse_unknown_fields_to_catch_typos():
    problem_named(parse_events, {"name": "A", "sevrity": "critical"}, "sevrity")


@pytest.mark.parametrize(("parser", "body"), [
    (parse_alertmanager, {"version": "4", "alerts": []}),
    (parse_grafana, {"version": "1", "alerts": []}),
    (parse_events, []),
    (cloudevents.parse_batch, []),
])
def test_empty_alert_lists_are_rejected(parser, body):
    with pytest.raises(PayloadError) as rejected:
        parser(json.dumps(body).encode())
    assert rejected.value.reason == "invalid_payload"


@pytest.mark.parametrize("fmt", ["alertmanager", "grafana"])
def test_mixed_firing_and_resolved_batch_keeps_each_status(fmt):
    parser, make = FORMATS[fmt]
    doc = make()
    resolved = {**copy.deepcopy(doc["alerts"][0]), "status": "resolved",
                "endsAt": "2026-11-20T12:00:00Z", "fingerprint": "0123456789abcdef"}
    doc["alerts"].append(resolved)
    events = domain.from_alertmanager(parser(json.dumps(doc).encode()), received_at=NOW)
    assert [e.status for e in events][-2:] == ["firing", "resolved"]
    assert events[-1].ends_at == datetime(2026, 11, 20, 12, tzinfo=UTC)


def test_mixed_cloudevents_batch_keeps_each_status():
    base = sample("cloudevent-structured.json")
    batch = [base, {**base, "id": "2", "data": {**base["data"], "status": "resolved"}}]
    events = [cloudevents.to_event(e, received_at=NOW, sender=domain.ANONYMOUS)
              for e in cloudevents.parse_batch(json.dumps(batch).encode())]
    assert [e.status for e in events] == ["firing", "resolved"]


@pytest.mark.parametrize("action", ["acknowledge", "resolve"])
def test_pagerduty_acknowledge_and_resolve_need_a_dedup_key(action):
    problem_named(pagerduty.parse_event, {"routing_key": "k" * 32, "event_action": action},
                  "dedup_key")


def test_pagerduty_acknowledge_and_resolve_carry_only_three_fields():
    resolve = {**sample("pagerduty-resolve.json"), "routing_key": "k" * 32}
    assert pagerduty.parse_event(json.dumps(resolve).encode()).dedup_key == (
        "orders-db-replication-lag")
