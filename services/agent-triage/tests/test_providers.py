import pytest

from reasonops_agent_triage.providers import FixedProvider, Provider, RulesProvider, provider_named
from reasonops_contracts.agents import TriageOutput, TriageRequested

REQUEST = TriageRequested(request_id="R", workflow_id="W", incident_id="INC0000001",
                          title="Disk full", severity="warning", priority=3)


async def test_rules_provider_identifies_itself_and_decides():
    provider: Provider = RulesProvider()
    assert (provider.name, provider.model, provider.prompt_version) == (
        "rules", "rules-v1", "triage-rules-1")
    assert (await provider.triage(REQUEST)).category == "storage"


async def test_fixed_provider_answers_with_its_output():
    output = TriageOutput(category="network", assignment_group="noc", suggested_impact=1,
                          suggested_urgency=1, suggested_priority=1, confidence=1.0,
                          reasons=["fixed"], summary="fixed")
    provider: Provider = FixedProvider(output)
    assert await provider.triage(REQUEST) == output


def test_provider_named_rejects_unknown_names():
    assert isinstance(provider_named("rules"), RulesProvider)
    with pytest.raises(ValueError, match="unknown triage provider"):
        provider_named("gpt-9")
