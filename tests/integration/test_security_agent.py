"""Failed-login events (CloudEvents from a security gateway, as ingest accepts them)
replayed at volume through the security agent, and a normal failure rate."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from reasonops_agent_security.app import SecuritySettings
from reasonops_agent_security.app import build_service as build_security
from reasonops_contracts import Envelope, subjects
from reasonops_contracts.agents import AgentDecisionRecorded, AgentProposalRecorded
from reasonops_contracts.ingest import EventAccepted
from reasonops_ingest.app import IngestSettings
from reasonops_ingest.app import build_service as build_ingest
from reasonops_runtime.jetstream import drained
from tests.support import publish_all, stream_messages, wait_for

pytestmark = pytest.mark.nats

ATTACKER = "203.0.113.45"
START = datetime(2026, 11, 20, 12, 0, 0, tzinfo=UTC)


def failed_login(source_ip: str, user: str, at: datetime) -> Envelope:
    """What a CloudEvent ``com.example.security.auth.failed`` becomes once accepted."""
    event = EventAccepted(
        fingerprint=f"auth-{source_ip}-{user}", status="firing",
        name="com.example.security.auth.failed", severity="warning", service="sso",
        resource="sso.example.internal", summary=f"failed login for {user} from {source_ip}",
        labels={"source_ip": source_ip, "user": user, "category": "security",
                "outcome": "failure"},
        starts_at=at, received_at=at, source_format="event",
        source="urn:monitor:security-gateway")
    return Envelope.wrap(event, source="ingest", subject=event.fingerprint)


def background(rng: random.Random, count: int, minutes: int) -> list[Envelope]:
    """Users mistyping passwords: many sources, a few failures each, spread out."""
    return [failed_login(f"198.51.100.{rng.randrange(1, 250)}", f"user{rng.randrange(400)}",
                         START + timedelta(seconds=rng.uniform(0, minutes * 60)))
            for _ in range(count)]


async def decisions(nc) -> list[AgentDecisionRecorded]:
    found = await stream_messages(nc, "AGENTS", subjects.AGENT_DECISION)
    return [e.decode(AgentDecisionRecorded) for e in found]


async def test_brute_force_replayed_at_volume_is_detected_once(nc, start_service):
    await start_service(build_ingest, IngestSettings)
    await start_service(build_security, SecuritySettings)
    rng = random.Random(7)
    accounts = [f"emp{n:03d}" for n in range(37)]
    attack = [failed_login(ATTACKER, rng.choice(accounts),
                           START + timedelta(minutes=10, seconds=i * 0.55))
              for i in range(512)]
    events = background(rng, 300, 60) + attack
    events.sort(key=lambda e: e.data["starts_at"])
    await publish_all(nc, events)

    async def brute_force():
        return [d for d in await decisions(nc) if d.output.pattern == "brute_force"]

    [decision] = await wait_for(brute_force, timeout=60)
    # An attack may look like credential stuffing before it is plainly brute force;
    # every finding is about the attacker, none about the users mistyping passwords.
    assert {d.output.source for d in await decisions(nc)} == {ATTACKER}
    assert decision.agent == "security"
    assert decision.provider == "rules"
    assert decision.output.pattern == "brute_force"
    assert decision.output.source == ATTACKER
    assert decision.output.failures >= 100
    assert decision.output.accounts <= 37

    proposals = await wait_for(lambda: stream_messages(nc, "AGENTS", subjects.AGENT_PROPOSAL))
    mine = [p for p in (e.decode(AgentProposalRecorded) for e in proposals)
            if p.decision_id == decision.decision_id]
    assert {p.action for p in mine} >= {"block_source"}
    assert all(p.requires_approval and p.target for p in mine)

    async def alert():
        found = await stream_messages(nc, "INGEST", subjects.INGEST_EVENT_ACCEPTED)
        return [e.decode(EventAccepted) for e in found if e.data["name"] ==
                "BruteForceDetected"]

    [opened] = await wait_for(alert, timeout=20)
    assert opened.labels["category"] == "security"
    assert opened.labels["source_ip"] == ATTACKER
    assert opened.fingerprint == f"security-{ATTACKER}"
    # The rest of the attack stays with the same finding: one brute-force decision.
    assert len(await brute_force()) == 1


async def test_normal_failure_rate_raises_nothing(nc, start_service):
    from reasonops_runtime import FrozenClock
    await start_service(build_security, SecuritySettings,
                        clock=FrozenClock(START + timedelta(minutes=4, seconds=55)))
    rng = random.Random(11)
    events = background(rng, 600, 60)
    # One user who keeps getting the password wrong: 30 tries in five minutes.
    events += [failed_login("192.0.2.10", "carol", START + timedelta(seconds=i * 10))
               for i in range(30)]
    await publish_all(nc, events)

    await drained(nc.jetstream(), "INGEST", "agent-security")
    assert await decisions(nc) == []
    raw = await stream_messages(nc, "INGEST", subjects.INGEST_RAW_EVENT)
    assert raw == []

    # Asked to look at the unlucky user's address, the agent says why it is no attack.
    from reasonops_contracts.agents import SecurityReviewRequested
    review = SecurityReviewRequested(request_id="SEC-1", source="192.0.2.10",
                                     incident_id="INC0000009", requested_by="analyst")
    await publish_all(nc, [Envelope.wrap(review, source="orchestrator")])
    [decision] = await wait_for(lambda: decisions(nc))
    assert (decision.request_id, decision.incident_id) == ("SEC-1", "INC0000009")
    assert decision.output.pattern is None
    assert decision.output.failures == 30
    assert decision.output.recommended_actions == ["monitor"]
    assert await stream_messages(nc, "AGENTS", subjects.AGENT_PROPOSAL) == []
    assert await stream_messages(nc, "INGEST", subjects.INGEST_RAW_EVENT) == []


async def test_privilege_change_after_failed_logins_is_an_escalation(nc, start_service):
    await start_service(build_security, SecuritySettings)
    source = "198.51.100.77"
    events = [failed_login(source, "bob", START + timedelta(seconds=i * 5)) for i in range(15)]
    granted = EventAccepted(
        fingerprint="iam-bob", status="firing", name="IAM", severity="warning", service="sso",
        summary="admin role granted to bob", labels={"source_ip": source, "user": "bob"},
        starts_at=START + timedelta(seconds=90), received_at=START, source_format="event")
    await publish_all(nc, [*events, Envelope.wrap(granted, source="ingest")])

    [decision] = await wait_for(lambda: decisions(nc), timeout=30)
    assert decision.output.pattern == "privilege_escalation"
    proposals = [e.decode(AgentProposalRecorded) for e in await wait_for(
        lambda: stream_messages(nc, "AGENTS", subjects.AGENT_PROPOSAL),
        check=lambda found: len(found) == 2)]
    reset = next(p for p in proposals if p.action == "force_password_reset")
    assert (reset.target, reset.parameters["accounts"]) == ("bob", "bob")


async def test_a_review_asked_while_an_attack_is_still_being_read_counts_the_attack(
        nc, start_service):
    """The review arrives behind 1,500 failed logins the agent has not stored yet (they
    come on the events durable, 500 a batch, in the background; the review on its own):
    it is decided once they are stored, and sees the brute force, not the quiet before."""
    from reasonops_contracts.agents import SecurityReviewRequested
    from reasonops_runtime import FrozenClock

    attack = [failed_login(ATTACKER, f"emp{i % 40:03d}",
                           START + timedelta(minutes=10, seconds=i * 0.1))
              for i in range(1500)]
    review = SecurityReviewRequested(request_id="SEC-2", source=ATTACKER,
                                     incident_id="INC0000011", requested_by="analyst")
    await start_service(build_ingest, IngestSettings)  # the streams
    await publish_all(nc, [*attack, Envelope.wrap(review, source="orchestrator")])
    await start_service(build_security, SecuritySettings,
                        clock=FrozenClock(START + timedelta(minutes=13)))

    async def reviewed():
        return [d for d in await decisions(nc) if d.request_id == "SEC-2"]

    [decision] = await wait_for(reviewed, timeout=60)
    assert decision.incident_id == "INC0000011"
    assert decision.output.pattern == "brute_force"
    assert decision.output.failures == 1500
    assert not [r for r in decision.output.reasons if "not read yet" in r]
