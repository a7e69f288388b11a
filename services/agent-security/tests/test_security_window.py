"""The security events' window on a real store: what is forgotten, and what is not."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from reasonops_agent_security import store
from reasonops_agent_security.domain import SecurityEvent, Thresholds, security_event
from reasonops_agent_security.handlers import newly_found
from reasonops_contracts.ingest import EventAccepted
from reasonops_llm.evaluation import case_store

START = datetime(2026, 11, 20, 12, 10, tzinfo=UTC)
ATTACKER = "203.0.113.45"
STORED = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def attack(first: int, last: int) -> list[SecurityEvent]:
    """Failed logins at 37 accounts from one source, one every 0.55 s."""
    return [SecurityEvent("login_failure", ATTACKER, f"emp{i % 37:03d}", "sso",
                          START + timedelta(seconds=i * 0.55)) for i in range(first, last)]


async def stored(db) -> int:  # type: ignore[no-untyped-def]
    async with db.read() as session:
        return int((await session.execute(select(func.count()).select_from(store.events)))
                   .scalar_one())


async def test_an_event_far_ahead_forgets_none_of_the_others():
    """Logs replayed from November, and one event of today among them (a live alert, a
    sender whose clock is wrong): the attack's first half is still in its window when
    the second half comes, and the attack is seen as the brute force it is."""
    limits = Thresholds()
    async with case_store(store.metadata) as db:
        async with db.transaction() as tx:
            early = await newly_found(tx.session, attack(0, 150), limits, STORED)
        async with db.transaction() as tx:
            today = SecurityEvent("login_failure", "198.51.100.9", "carol", "sso", STORED)
            assert await newly_found(tx.session, [today], limits, STORED) == []
        async with db.transaction() as tx:
            late = await newly_found(tx.session, attack(150, 512), limits,
                                     STORED + timedelta(seconds=1))
        assert [f.pattern for f in early] == ["credential_stuffing"]
        assert [(f.pattern, f.stats.failures) for f in late] == [("brute_force", 512)]
        assert await stored(db) == 513


async def test_events_old_by_their_time_and_when_stored_are_forgotten():
    limits = Thresholds()
    kept = timedelta(seconds=max(limits.long_window_seconds, limits.cooldown_seconds) * 2)
    async with case_store(store.metadata) as db:
        async with db.transaction() as tx:
            await newly_found(tx.session, attack(0, 10), limits, STORED)
        later = START + kept + timedelta(minutes=10)
        newer = SecurityEvent("login_failure", "198.51.100.9", "carol", "sso", later)
        async with db.transaction() as tx:  # stored a moment later: nothing forgotten yet
            await newly_found(tx.session, [newer], limits, STORED + timedelta(minutes=1))
        assert await stored(db) == 11
        async with db.transaction() as tx:  # old both ways now
            await newly_found(tx.session, [newer], limits, STORED + kept + timedelta(minutes=1))
        assert await stored(db) == 2


def test_an_agent_s_own_alert_is_no_evidence():
    """The alert the security agent raises for a finding comes back through ingest with
    the attacker's address in its labels: it is not one more failed login."""
    alert = EventAccepted(
        fingerprint=f"security-{ATTACKER}", status="firing", name="BruteForceDetected",
        severity="critical", service="sso", resource=ATTACKER,
        summary="512 failed logins for 37 accounts from 203.0.113.45 in 5 minutes",
        labels={"category": "security", "source_ip": ATTACKER, "pattern": "brute_force",
                "detected_by": "agent-security"},
        received_at=STORED, source_format="event")
    assert security_event(alert) is None
    assert security_event(alert.model_copy(update={"labels": {
        **alert.labels, "detected_by": "a SIEM rule"}})) is not None


def test_an_event_dated_after_its_arrival_is_placed_at_its_arrival():
    """A login failure said to happen tomorrow would move its source's window past the
    attack's other failures; it happened when it arrived, as far as anyone can tell."""
    failed = EventAccepted(
        fingerprint="auth", status="firing", name="com.example.security.auth.failed",
        severity="warning", service="sso", summary="failed login for emp001",
        labels={"source_ip": ATTACKER, "user": "emp001", "outcome": "failure"},
        starts_at=START + timedelta(days=1), received_at=START, source_format="event")
    read = security_event(failed)
    assert read is not None
    assert read.at == START
    slightly = security_event(failed.model_copy(update={"starts_at": START + timedelta(
        minutes=4)}))  # a sender's clock a little ahead: its own time stands
    assert slightly is not None
    assert slightly.at == START + timedelta(minutes=4)
