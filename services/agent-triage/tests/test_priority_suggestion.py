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
    ("critical", (1, 1, 1)), ("error", (2, 1, 2)), ("warning", (2, 2, 3)), ("info", (3, 2, 4)),
])
def test_severity_sets_the_baseline(severity, expected):
    advice = suggest(severity, {}, "application", set())
    assert (advice.impact, advice.urgency, advice.priority) == expected


def test_tier_one_raises_impact():
    assert suggest("warning", {"tier": "1"}, "application", set()).impact == 1


def test_non_production_lowers_impact():
    advice = suggest("warning", {"env": "staging"}, "application", set())
    assert (advice.impact, advice.priority) == (3, 4)


def test_outage_words_raise_urgency():
    advice = suggest("warning", {}, "network", {"bgp", "peer", "down"})
    assert (advice.urgency, advice.priority) == (1, 2)
    assert any("cut off" in r for r in advice.reasons)


def test_security_raises_urgency():
    assert suggest("info", {}, "security", set()).urgency == 1


def test_explicit_labels_have_the_last_word():
    advice = suggest("critical", {"impact": "3", "urgency": "u3"}, "security", {"down"})
    assert (advice.impact, advice.urgency, advice.priority) == (3, 3, 5)


def test_triage_output_carries_the_suggestion():
    request = TriageRequested(request_id="R", workflow_id="W", incident_id="INC0000001",
                              title="Disk full", severity="error", priority=2,
                              labels={"env": "dev"})
    decision = triage(request)
    assert (decision.suggested_impact, decision.suggested_urgency,
            decision.suggested_priority) == (3, 1, 3)
    assert "impact 3 x urgency 1 => P3" in decision.reasons
