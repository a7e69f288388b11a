import pytest

from reasonops_agent_triage.classify import NO_SIGNAL_CONFIDENCE, classify, confidence, tokens
from reasonops_agent_triage.domain import CATEGORY_GROUPS, triage
from reasonops_contracts.agents import TriageRequested


def request(title: str, *, labels: dict[str, str] | None = None,
            annotations: dict[str, str] | None = None, severity: str = "warning",
            service: str | None = None) -> TriageRequested:
    return TriageRequested(request_id="R1", workflow_id="WF-INC0000001",
                           incident_id="INC0000001", title=title, service=service,
                           severity=severity, priority=3, labels=labels or {},
                           annotations=annotations or {})


@pytest.mark.parametrize(("title", "labels", "annotations", "expected"), [
    ("Replication lag on primary", {"alertname": "PostgresReplicationLag"}, {}, "database"),
    ("Too many connections", {"alertname": "TooManyConnections", "job": "mysqld_exporter"}, {},
     "database"),
    ("Evictions rising", {"alertname": "Evictions", "service": "redis"}, {}, "database"),
    ("Volume almost full", {"alertname": "KubePersistentVolumeFillingUp"}, {}, "storage"),
    ("Slow writes", {"alertname": "HighIops", "device": "nvme0n1"}, {}, "storage"),
    ("Packet loss to upstream", {"alertname": "HighPacketLoss", "interface": "eth0"}, {},
     "network"),
    ("Lookups failing", {"alertname": "DNSResolutionFailures"}, {}, "network"),
    ("BGP session down", {"alertname": "BgpPeerDown"}, {}, "network"),
    ("Failed logins spike", {"alertname": "BruteForceLogin"}, {}, "security"),
    ("Certificate expires in 3 days", {"alertname": "TLSCertExpiring"}, {}, "security"),
    ("Host scan", {"alertname": "IntrusionDetected"},
     {"description": "suspicious traffic matching CVE-2024-3094"}, "security"),
    ("Node memory pressure", {"alertname": "NodeMemoryPressure", "job": "node_exporter"}, {},
     "infrastructure"),
    ("Container killed", {"alertname": "OOMKilled"}, {}, "infrastructure"),
    ("Kubelet not responding", {"alertname": "KubeletDown"}, {}, "infrastructure"),
    ("checkout 5xx", {"alertname": "HighErrorRate"}, {}, "application"),
    ("Unhandled exception after deploy", {}, {"description": "NullPointer exception"},
     "application"),
])
def test_each_category_is_recognised(title, labels, annotations, expected):
    decision = triage(request(title, labels=labels, annotations=annotations))
    assert decision.category == expected
    assert decision.assignment_group == CATEGORY_GROUPS[expected]


def test_technology_name_outweighs_generic_symptom():
    result = classify(request("PostgresHighLatency", labels={"alertname": "PostgresHighLatency"}))
    assert result.category == "database"
    assert result.runner_up == "network"


def test_explicit_category_label_settles_it():
    decision = triage(request("Disk full", labels={"category": "security"}))
    assert decision.category == "security"


def test_tokens_split_camel_case_and_stem_plurals():
    assert tokens("OOMKilled") == ("oom", "killed")
    assert tokens("HTTPRequestErrors") == ("http", "request", "error")
    assert tokens("tls_cert-expiry") == ("tls", "cert", "expiry")


def test_reasons_name_the_matched_signals():
    decision = triage(request("Disk full", labels={"alertname": "NodeDiskFull"}))
    assert "alertname: 'disk' -> storage (+6)" in decision.reasons
    assert any(r.startswith("scores: storage") for r in decision.reasons)
    assert decision.summary.startswith("Disk full on an unnamed service looks like a storage")


def test_team_label_overrides_the_category_group():
    decision = triage(request("checkout 5xx", labels={"alertname": "HighErrorRate",
                                                      "team": "Payments"}))
    assert decision.assignment_group == "payments"
    assert "team label -> payments" in decision.reasons


def test_security_incidents_stay_with_security_despite_team():
    decision = triage(request("Brute force", labels={"alertname": "BruteForceLogin",
                                                     "team": "payments"}))
    assert decision.assignment_group == "security-operations"


def test_assignment_group_label_beats_team():
    decision = triage(request("Disk full", labels={"team": "payments",
                                                   "assignment_group": "Storage Tier2"}))
    assert decision.assignment_group == "storage-tier2"


def test_no_signal_falls_back_to_application_with_low_confidence():
    decision = triage(request("Something odd happened"))
    assert decision.category == "application"
    assert decision.confidence == NO_SIGNAL_CONFIDENCE


def test_clear_winner_is_more_confident_than_a_contested_one():
    clear = triage(request("Postgres down", labels={"alertname": "PostgresDown",
                                                    "job": "postgres"}))
    contested = triage(request("Postgres latency", labels={"alertname": "PostgresLatency"},
                               annotations={"description": "packet loss seen"}))
    assert clear.category == contested.category == "database"
    assert clear.confidence > contested.confidence


def test_confidence_grows_with_margin_and_support():
    assert confidence(0, 0) == NO_SIGNAL_CONFIDENCE
    assert confidence(6, 6) == confidence(10, 10)  # a tie is a guess, however loud
    assert confidence(6, 3) < confidence(6, 1) < confidence(6, 0)
    assert confidence(1, 0) < confidence(3, 0) < confidence(6, 0)
    assert confidence(6, 0) == confidence(60, 0) <= 0.95
