import json
from datetime import UTC, datetime, timedelta

import pytest

from reasonops_agent_capacity.domain import assess, forecast, reading, urgency
from reasonops_contracts.ingest import EventAccepted

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def alert(name: str, summary: str, *, labels=None, annotations=None, status="firing"):
    return EventAccepted(fingerprint="fp", status=status, name=name, severity="warning",
                         service="file-share", resource="fs-03", summary=summary,
                         labels=labels or {}, annotations=annotations or {}, received_at=T0,
                         source_format="alertmanager")


def test_grafana_values_give_the_measurement_not_the_condition():
    found = reading(alert("DiskAlmostFull", "/data on fs-03 is 93% full",
                          annotations={"values": json.dumps({"B": 93.2, "C": 1})}),
                    received=T0)
    assert (found.value, found.limit) == (93.2, 100.0)


def test_grafana_value_string():
    found = reading(alert("DiskAlmostFull", "disk", annotations={
        "valueString": "[ var='B' labels={host=fs-03} value=88.5 ], [ var='C' value=1 ]"}),
        received=T0)
    assert found.value == 88.5


def test_alertmanager_value_annotation_and_limit_label():
    found = reading(alert("PgbouncerPoolSaturation", "pool nearly exhausted",
                          labels={"pool": "orders", "max_connections": "200"},
                          annotations={"value": "182"}), received=T0)
    assert (found.value, found.limit) == (182.0, 200.0)
    assert found.series.endswith("|orders")


def test_value_from_summary_text():
    assert reading(alert("NodeMemoryHigh", "memory at 91.5% on node-7"), received=T0).value \
        == 91.5
    found = reading(alert("ConnectionPoolHigh", "95 of 100 connections in use"), received=T0)
    assert (found.value, found.limit) == (95.0, 100.0)


def test_non_capacity_or_valueless_alerts_are_ignored():
    assert reading(alert("HighErrorRate", "checkout 5xx at 12%"), received=T0) is None
    assert reading(alert("DiskAlmostFull", "disk is filling up"), received=T0) is None
    assert reading(alert("DiskAlmostFull", "93% full", status="resolved"), received=T0) is None


def test_linear_growth_forecasts_exhaustion():
    points = [(T0 + timedelta(hours=h), 80 + 4 * h) for h in range(4)]  # 80, 84, 88, 92
    found = forecast(points, 100.0)
    assert found.slope_per_hour == pytest.approx(4.0)
    assert found.hours_left == pytest.approx(2.0)
    assert found.exhaustion_at == T0 + timedelta(hours=5)


def test_flat_or_falling_usage_never_runs_out():
    found = forecast([(T0, 70.0), (T0 + timedelta(hours=1), 69.0),
                      (T0 + timedelta(hours=2), 70.0)], 100.0)
    assert found.hours_left is None
    assert urgency(found.hours_left, 24)[0] == 3


@pytest.mark.parametrize(("hours", "target", "level"), [(2, 4, 1), (10, 4, 2), (30, 4, 3)])
def test_urgency_against_the_resolution_target(hours, target, level):
    assert urgency(hours, target)[0] == level


def test_assessment_carries_the_numbers():
    points = [(T0 + timedelta(hours=h), 80 + 4 * h) for h in range(4)]
    last = reading(alert("DiskAlmostFull", "92% full"), received=T0 + timedelta(hours=3))
    out = assess(last, forecast(points, 100.0), 24.0)
    assert out.suggested_urgency == 1
    assert out.hours_to_exhaustion == pytest.approx(2.0)
    assert "within the 24h resolution target" in " ".join(out.reasons)
