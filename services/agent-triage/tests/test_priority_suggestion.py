import pytest

from reasonops_agent_triage.domain import triage
from reasonops_agent_triage.priority import suggest
from reasonops_contracts.agents import TriageRequested
from reasonops_contracts.priority import priority_of


@pytest.mark.parametrize(("impact", "urgency", "priority"), [
    (1, 1, 1), (1, 2, 2), (1, 3, 3), (2, 1, 2), (2, 2, 3), (2, 3, 4), (3, 1, 3), (3, 2, 4),
    (3, 3, 5),
])
def test_itil_matrix(impact, urgency, priority):
    assert priority_of(impact, urgency) == priority


def test_matrix_rejects_out_of_range():
    with pytest.raises(ValueError, match=r"1\.\.3"):
        priority_of(0, 2)


@pytest.mark.parametrize(("severity", "expected"), [
    ("critical", (2, 1, 2)), ("error", (2, 1, 2)), ("warning", (2, 2, 3)), ("info", (3, 2, 4)),
])
def test_severity_sets_the_baseline(severity, expected):
    """A critical alert that says nothing of users cut off is a major degradation (P2)."""
    advice = suggest(severity, {}, "application", set())
    assert (advice.impact, advice.urgency, advice.priority) == expected


def test_critical_and_users_cut_off_is_p1():
    advice = suggest("critical", {}, "database", {"replica", "set", "no", "primary"},
                     "mongo db replica set ha no primary")
    assert advice.priority == 1
    assert any("'no primary' means users are cut off" in r for r in advice.reasons)
    assert suggest("critical", {"tier": "1"}, "application", set()).priority == 1


def test_an_attack_under_way_is_p1_a_finding_can_wait():
    attack = suggest("error", {}, "security", {"ransomware", "behavior", "detected"})
    assert attack.priority == 1
    assert any("attack under way" in r for r in attack.reasons)
    # The same word outside a security decision is not an attack.
    assert suggest("error", {}, "application", {"ransomware"}).priority == 2
    finding = suggest("error", {}, "security", {"new", "vulnerability", "in", "lodash"})
    assert finding.priority == 3
    assert any("can wait for the working day" in r for r in finding.reasons)
    job = suggest("error", {}, "storage", {"backup", "job", "failed"}, "backup job failed")
    assert job.priority == 3


def test_a_pipeline_check_needs_nothing():
    advice = suggest("info", {}, "application", {"watchdog"})
    assert (advice.impact, advice.urgency, advice.priority) == (3, 3, 5)


def test_tier_one_raises_impact():
    assert suggest("warning", {"tier": "1"}, "application", set()).impact == 1


def test_non_production_lowers_impact_and_can_wait():
    advice = suggest("warning", {"env": "staging"}, "application", set())
    assert (advice.impact, advice.urgency, advice.priority) == (3, 3, 5)
    down = suggest("error", {"env": "staging"}, "application", {"down"})
    assert (down.impact, down.urgency, down.priority) == (3, 2, 4)


def test_outage_words_raise_urgency():
    advice = suggest("warning", {}, "network", {"bgp", "peer", "down"})
    assert (advice.urgency, advice.priority) == (1, 2)
    assert any("cut off" in r for r in advice.reasons)


def test_all_of_it_out_is_p1_whatever_the_severity():
    """Every location failing, no member left to lead: wide impact, users cut off."""
    probe = suggest("critical", {}, "network", {"probe", "fail", "3", "of", "region"},
                    "probe fail from 3 of 3 region")
    assert probe.priority == 1
    assert any("'3 of 3'" in r for r in probe.reasons)
    primary = suggest("error", {}, "database", {"no", "primary"}, "replica set ha no primary")
    assert primary.priority == 1
    assert any("'no primary': all of it is out -> impact 1" in r for r in primary.reasons)
    # One member down is not all of it.
    assert suggest("critical", {}, "database", {"node", "suspect"}, "2 node suspect"
                   ).priority == 2


def test_a_resource_past_its_threshold_can_wait_unless_critical_or_out():
    usage = suggest("error", {}, "infrastructure", {"cpu", "usage"}, "high cpu usage")
    assert usage.priority == 3
    assert any("'usage' past a threshold" in r for r in usage.reasons)
    assert suggest("critical", {}, "infrastructure", {"cpu", "usage"}, "high cpu usage"
                   ).priority == 2
    assert suggest("error", {}, "storage", {"usage", "down"}, "volume down usage"
                   ).priority == 2


def test_an_exception_and_a_policy_signature_can_wait():
    assert suggest("error", {}, "application", {"null", "pointer", "exception"},
                   "null pointer exception").priority == 3
    assert suggest("error", {}, "security", {"et", "policy", "dhcp"},
                   "et policy possible kali hostname in dhcp").priority == 3


def test_security_alone_does_not_raise_urgency():
    assert suggest("warning", {}, "security", {"special", "privilege"}).priority == 3


def test_explicit_labels_have_the_last_word():
    advice = suggest("critical", {"impact": "3", "urgency": "u3"}, "security", {"down"})
    assert (advice.impact, advice.urgency, advice.priority) == (3, 3, 5)


def test_triage_output_carries_the_suggestion():
    request = TriageRequested(request_id="R", workflow_id="W", incident_id="INC0000001",
                              title="Disk full", severity="error", priority=2,
                              labels={"env": "dev"})
    decision = triage(request)
    assert (decision.suggested_impact, decision.suggested_urgency,
            decision.suggested_priority) == (3, 2, 4)
    assert "impact 3 x urgency 2 => P4" in decision.reasons
