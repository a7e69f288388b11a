"""What of a storm's alerts a model is shown: the earliest one by one, every one counted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from reasonops_agent_rca.domain import AlertSeen
from reasonops_agent_rca.shown import CITABLE, GROUPS, ONE_BY_ONE, shown

T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def alert(n: int, name: str, service: str = "checkout") -> AlertSeen:
    return AlertSeen(f"fp-{n}", name, service, f"{name} #{n}", T0 + timedelta(seconds=n))


def test_a_few_alerts_are_shown_as_they_are_in_time_order():
    alerts = [alert(n, "HighErrorRate") for n in (3, 1, 2)]
    first, groups = shown(alerts)
    assert [a["fingerprint"] for a in first] == ["fp-1", "fp-2", "fp-3"]
    assert groups == []


def test_a_storm_is_the_earliest_alerts_and_every_alert_counted_by_name():
    # a deploy's first victims, then hundreds of pods alerting
    alerts = [alert(n, "DatabaseConnectionsExhausted") for n in range(5)]
    alerts += [alert(n, "PodCrashLooping") for n in range(5, 400)]
    first, groups = shown(alerts)
    assert len(first) == ONE_BY_ONE
    assert [a["name"] for a in first[:5]] == ["DatabaseConnectionsExhausted"] * 5
    assert [(g["name"], g["count"]) for g in groups] == [
        ("DatabaseConnectionsExhausted", 5), ("PodCrashLooping", 395)]
    crash = groups[1]
    assert (crash["first_at"], crash["last_at"]) == (T0 + timedelta(seconds=5),
                                                      T0 + timedelta(seconds=399))
    assert crash["fingerprints"] == ["fp-5", "fp-6", "fp-7"][:CITABLE]


def test_beyond_the_groups_kept_the_rest_are_summed_in_one_line():
    alerts = [alert(n, f"Alert{n:03d}") for n in range(GROUPS + 25)]
    _, groups = shown(alerts)
    assert len(groups) == GROUPS + 1
    assert sum(g["count"] for g in groups) == len(alerts)
    assert (groups[-1]["name"], groups[-1]["count"], groups[-1]["fingerprints"]) == (
        "25 other alert names", 25, [])
