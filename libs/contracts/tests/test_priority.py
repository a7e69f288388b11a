import pytest

from reasonops_contracts.priority import assess, priority_of


@pytest.mark.parametrize(
    ("impact", "urgency", "expected"),
    [(1, 1, 1), (1, 2, 2), (1, 3, 3), (2, 1, 2), (2, 2, 3), (2, 3, 4), (3, 1, 3), (3, 2, 4),
     (3, 3, 5)],
)
def test_priority_follows_the_itil_matrix(impact, urgency, expected):
    assert priority_of(impact, urgency) == expected


def test_priority_refuses_levels_outside_one_to_three():
    with pytest.raises(ValueError, match=r"1\.\.3"):
        priority_of(0, 2)


@pytest.mark.parametrize(("severity", "priority"),
                         [("critical", 1), ("error", 2), ("warning", 3), ("info", 4)])
def test_severity_sets_the_default_priority(severity, priority):
    assert assess(severity, {}).priority == priority


def test_tier_one_service_raises_impact():
    result = assess("warning", {"tier": "1"})
    assert (result.impact, result.priority) == (1, 2)
    assert "tier-1" in result.reason


def test_non_production_environment_lowers_impact():
    result = assess("critical", {"environment": "staging"})
    assert (result.impact, result.urgency, result.priority) == (2, 1, 2)


def test_explicit_labels_override_everything():
    result = assess("info", {"impact": "1", "urgency": "U1", "environment": "dev"})
    assert (result.impact, result.urgency, result.priority) == (1, 1, 1)
    assert result.reason.endswith("=> P1")


def test_unknown_label_values_are_ignored():
    assert assess("warning", {"impact": "high"}).impact == 2
