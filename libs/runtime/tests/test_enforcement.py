"""The enforcer: an allowed command passes; a refused one raises ``Forbidden`` carrying
the ``AccessDenied`` record; an action that needs approval cannot be run directly."""

from datetime import UTC, datetime

import pytest

from reasonops_contracts import Envelope
from reasonops_contracts.policy import AccessDenied
from reasonops_runtime.enforcement import Enforcer
from reasonops_runtime.policy import Forbidden
from reasonops_runtime.policy_file import configured, parse
from reasonops_runtime.settings import ServiceSettings

AT = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
POLICY = """
roles:
  responder: {allow: [incident.resolve]}
  careful: {allow: [{actions: [incident.assign], approval: required}]}
principals:
  user:alice: [{role: responder, teams: [payments]}]
  agent:cautious: [careful]
"""


@pytest.fixture
def enforcer() -> Enforcer:
    return Enforcer(parse(POLICY, "policy.yaml"), "incidents")


def test_an_allowed_command_passes(enforcer):
    verdict = enforcer.require("user:alice", "incident.resolve", at=AT, team="payments")
    assert verdict.allowed


def test_a_refused_command_carries_its_record(enforcer):
    with pytest.raises(Forbidden) as err:
        enforcer.require("alice", "incident.resolve", at=AT, team="dba", service="orders-db",
                         incident_id="INC0000007", correlation_id="corr-1")
    assert err.value.code == "forbidden"
    assert err.value.field == "actor"
    assert str(err.value) == ("user:alice may not incident.resolve INC0000007: user:alice has "
                              "roles [responder@payments]; incident.resolve on team dba, "
                              "service orders-db is outside their scope")
    denial = err.value.denial
    assert denial is not None
    assert (denial.type, denial.subject, denial.correlation_id, denial.source) == (
        AccessDenied.TYPE, "INC0000007", "corr-1", "incidents")
    event = AccessDenied.model_validate(denial.data)
    assert (event.principal, event.team, event.service, event.denied_at) == (
        "user:alice", "dba", "orders-db", AT)


def test_an_action_that_needs_approval_cannot_be_run_directly(enforcer):
    verdict = enforcer.decide("agent:cautious", "incident.assign")
    assert not verdict.allowed
    assert verdict.reason == ("careful allows incident.assign only with approval; only a "
                              "workflow can apply it")


def test_a_refused_effect_continues_the_chain_of_its_cause(enforcer):
    cause = Envelope(id="dec-1", type="itsm.agent.decision.recorded.v1", source="agent-triage",
                     time=AT, correlation_id="corr-9", subject="INC0000001", data={})
    verdict = enforcer.decide("agent:triage", "incident.assign", team="payments")
    denial = enforcer.denial(verdict, at=AT, incident_id="INC0000001", cause=cause)
    assert (denial.causation_id, denial.correlation_id) == ("dec-1", "corr-9")
    assert denial.data["reason"] == ("agent:triage has no roles in the policy.yaml policy; "
                                     "denied by default")


def test_the_policy_setting_is_read_and_blank_means_the_default(monkeypatch, tmp_path):
    monkeypatch.setenv("REASONOPS_POLICY", " ")
    assert ServiceSettings().policy is None
    assert configured(None).source == "built-in"
    monkeypatch.setenv("REASONOPS_POLICY", str(tmp_path / "policy.yaml"))
    assert ServiceSettings().policy == tmp_path / "policy.yaml"
