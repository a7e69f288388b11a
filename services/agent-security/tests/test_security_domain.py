from datetime import UTC, datetime

import pytest

from reasonops_agent_security.domain import (
    Thresholds,
    WindowStats,
    assess,
    detect,
    detect_distributed,
    detect_slow,
    security_event,
)
from reasonops_contracts.ingest import EventAccepted

AT = datetime(2026, 11, 20, 12, 5, 9, tzinfo=UTC)


def accepted(name: str, summary: str, **labels: str) -> EventAccepted:
    return EventAccepted(fingerprint="f", status="firing", name=name, severity="warning",
                         service="sso", resource="sso.example.internal", summary=summary,
                         labels=labels, received_at=AT, source_format="event")


def stats(failures: int, accounts: int) -> WindowStats:
    return WindowStats(source="203.0.113.45", failures=failures, accounts=accounts,
                       waf_blocks=0, top_accounts=("alice",), service="sso", first_at=AT,
                       last_at=AT)


@pytest.mark.parametrize(("name", "summary", "labels", "kind"), [
    ("com.example.security.auth.failed", "login failed for alice",
     {"source_ip": "203.0.113.45", "user": "alice"}, "login_failure"),
    ("sshd", "Failed password for root from 198.51.100.7 port 22",
     {"src_ip": "198.51.100.7"}, "login_failure"),
    ("AuthEvent", "sign-in attempt", {"client_ip": "192.0.2.9", "outcome": "failure"},
     "login_failure"),
    ("ModSecurity", "WAF blocked SQL injection attempt", {"source_ip": "192.0.2.9"},
     "waf_block"),
    ("IAM", "admin role granted to bob", {"source_ip": "10.0.0.5", "user": "bob"},
     "privilege_change"),
    ("sshd", "Accepted password for alice from 198.51.100.7 port 22",
     {"src_ip": "198.51.100.7", "user": "alice"}, "login_success"),
    ("LoginSucceeded", "alice signed in", {"source_ip": "10.0.0.8"}, "login_success"),
])
def test_security_events_are_recognised(name, summary, labels, kind):
    found = security_event(accepted(name, summary, **labels))
    assert found is not None
    assert found.kind == kind


def test_ordinary_alerts_are_not_security_events():
    assert security_event(accepted("HighErrorRate", "checkout 5xx", source_ip="10.0.0.1")) \
        is None
    assert security_event(accepted("LoginFailed", "failed login", user="alice")) is not None


def test_thresholds():
    limits = Thresholds()
    assert detect(stats(99, 3), limits) is None
    assert detect(stats(100, 3), limits).pattern == "brute_force"
    assert detect(stats(512, 37), limits).pattern == "brute_force"  # 14 tries an account
    assert detect(stats(40, 25), limits).pattern == "credential_stuffing"
    assert detect(stats(19, 19), limits) is None


def test_assessment_proposes_containment():
    limits = Thresholds()
    brute = assess(stats(150, 2), detect(stats(150, 2), limits), limits)
    assert brute.recommended_actions == ["block_source", "force_password_reset"]
    stuffing = assess(stats(40, 25), detect(stats(40, 25), limits), limits)
    assert stuffing.severity == "critical"
    quiet = assess(stats(5, 2), None, limits)
    assert (quiet.pattern, quiet.recommended_actions) == (None, ["monitor"])


def test_privileges_granted_from_a_failing_source_are_an_escalation():
    from dataclasses import replace
    limits = Thresholds()
    suspicious = replace(stats(12, 2), privileged=("bob",))
    finding = detect(suspicious, limits)
    assert finding.pattern == "privilege_escalation"
    out = assess(suspicious, finding, limits)
    assert (out.severity, out.recommended_actions) == ("critical",
                                                       ["block_source", "force_password_reset"])
    assert detect(replace(stats(3, 1), privileged=("bob",)), limits) is None  # routine admin


def test_people_behind_one_address_who_then_log_in_are_not_stuffing():
    from dataclasses import replace
    limits = Thresholds()
    office = replace(stats(70, 55), recovered=50)  # mistyped, then logged in
    assert detect(office, limits) is None
    assert detect(replace(office, recovered=3), limits).pattern == "credential_stuffing"
    rush_and_attacker = replace(stats(260, 28), recovered=25)  # 9 tries an account
    assert detect(rush_and_attacker, limits).pattern == "brute_force"


def test_the_hour_finds_the_slow_attacks():
    from dataclasses import replace
    limits = Thresholds()
    hour = replace(stats(180, 1), seconds=3600)  # 3 tries a minute on one account
    assert detect(stats(15, 1), limits) is None  # its five minutes
    assert detect_slow(hour, limits).pattern == "brute_force"
    stale_job = replace(stats(60, 1), seconds=3600)  # a job retrying every minute
    assert detect_slow(stale_job, limits) is None
    spray = replace(stats(90, 90), seconds=3600, recovered=2)
    assert detect_slow(spray, limits).pattern == "password_spraying"
    out = assess(spray, detect_slow(spray, limits), limits)
    assert (out.window_seconds, out.severity) == (3600, "critical")
    assert "in 60 minutes" in out.summary


def test_one_account_failing_from_many_sources_is_a_distributed_brute_force():
    from dataclasses import replace
    limits = Thresholds()
    account = replace(stats(120, 1), top_accounts=("alice",), seconds=3600, sources=30)
    finding = detect_distributed(account, limits)
    assert (finding.pattern, finding.key) == ("distributed_brute_force", "account:alice")
    assert "from 30 sources" in assess(account, finding, limits).summary
    assert detect_distributed(replace(account, sources=2), limits) is None  # one job
