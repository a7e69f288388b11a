"""The role policy: the file's validation, wildcards, groups, scope, approval, the default."""

from pathlib import Path

import pytest

from reasonops_runtime.actions import ACTIONS
from reasonops_runtime.policy import Policy, principal_of
from reasonops_runtime.policy_file import PolicyError, load_policy, parse

POLICY = """
roles:
  admin:
    allow: ["*"]
  responder:
    description: Work a team's incidents
    allow: [incident.acknowledge, incident.resolve, incident.comment, silence.*]
  payments-lead:
    allow: [incident.*]
    scope: {teams: [payments]}
  observer:
    allow: []
  triage-agent:
    allow:
      - actions: [incident.assign, incident.change_priority]
        approval: auto
  security-agent:
    allow:
      - actions: [proposal.block_source, proposal.force_password_reset]
        approval: required
groups:
  payments-oncall: [user:alice, user:dan]
principals:
  user:admin: [admin]
  user:carol: [payments-lead]
  user:bob:
    - {role: responder, teams: [identity]}
  user:erin:
    - {role: responder, services: [search]}
  group:payments-oncall:
    - {role: responder, teams: [payments]}
  user:*: [observer]
  agent:triage: [triage-agent]
  agent:security: [security-agent]
"""


@pytest.fixture
def policy() -> Policy:
    return parse(POLICY, "policy.yaml")


def test_a_user_may_act_on_their_teams_incident_but_not_another_teams(policy):
    assert policy.check("user:alice", "incident.resolve", team="payments",
                        service="checkout").allowed
    verdict = policy.check("user:bob", "incident.resolve", team="payments", service="checkout")
    assert not verdict.allowed
    assert verdict.reason == ("user:bob has roles [responder@identity, observer]; "
                              "incident.resolve on team payments, service checkout is "
                              "outside their scope")
    assert verdict.roles == ("responder@identity", "observer")


def test_a_service_scope_covers_that_service_whoever_owns_it(policy):
    assert policy.check("user:erin", "incident.acknowledge", team="discovery",
                        service="search").allowed
    assert not policy.check("user:erin", "incident.acknowledge", team="discovery",
                            service="catalog").allowed


def test_a_scoped_role_does_not_cover_a_target_without_team_or_service(policy):
    verdict = policy.check("user:alice", "silence.create")
    assert not verdict.allowed
    assert "something owned by no team or service is outside their scope" in verdict.reason
    assert policy.check("user:admin", "silence.create").allowed


def test_a_role_scope_applies_wherever_it_is_granted(policy):
    assert policy.check("user:carol", "incident.declare_major", team="payments").allowed
    verdict = policy.check("user:carol", "incident.declare_major", team="dba")
    assert not verdict.allowed
    assert "payments-lead@payments" in verdict.roles


def test_wildcard_actions_and_principals(policy):
    assert policy.check("user:admin", "finance.close_period").allowed
    assert policy.check("user:carol", "incident.change_priority", team="payments").allowed
    verdict = policy.check("user:zoe", "incident.comment", team="payments")
    assert not verdict.allowed
    assert verdict.reason == "user:zoe has roles [observer]; none of them allows incident.comment"


def test_principals_the_file_names_nothing_for_are_denied_by_default(policy):
    for who in ("agent:rca", "service:orchestrator", "robot"):
        verdict = policy.check(who, "incident.resolve", team="payments")
        assert not verdict.allowed
    verdict = policy.check("agent:rca", "incident.resolve")
    assert verdict.reason == "agent:rca has no roles in the policy.yaml policy; denied by default"
    assert verdict.roles == ()


def test_agents_propose_with_or_without_approval_and_nothing_else(policy):
    auto = policy.check("agent:triage", "incident.assign", team="payments")
    assert (auto.allowed, auto.requires_approval) == (True, False)
    held = policy.check("agent:security", "proposal.block_source")
    assert (held.allowed, held.requires_approval) == (True, True)
    assert held.reason == "security-agent allows proposal.block_source only with approval"
    assert not policy.check("agent:security", "incident.resolve", team="payments").allowed
    assert not policy.check("agent:triage", "incident.resolve", team="payments").allowed
    assert not policy.check("agent:triage", "proposal.block_source").allowed


def test_bare_actor_names_are_users_and_cli_is_no_one_special():
    assert principal_of("ann") == "user:ann"
    assert principal_of("cli") == "user:cli"
    assert principal_of("agent:triage") == "agent:triage"


def test_a_group_is_never_a_principal_even_one_the_file_grants(policy):
    """Claiming ``group:payments-oncall`` once resolved payments incidents; membership
    comes from the file's groups only."""
    verdict = policy.check("group:payments-oncall", "incident.resolve", team="payments")
    assert not verdict.allowed
    assert "group membership comes from the policy file only" in verdict.reason
    assert policy.check("user:alice", "incident.resolve", team="payments").allowed


def test_a_policy_file_naming_the_old_cli_principal_is_refused_with_the_new_name():
    with pytest.raises(PolicyError, match=r"principals.cli: .*the local operator is "
                                          r"user:admin"):
        parse("roles: {admin: {allow: ['*']}}\nprincipals:\n  cli: [admin]\n", "p.yaml")


def test_the_default_policy_keeps_the_operator_and_services_in_charge():
    policy = Policy.default()
    for who in ("user:admin", "ann", "user:alice", "service:orchestrator"):
        for action in sorted(ACTIONS - {a for a in ACTIONS if a.startswith("proposal.")}):
            verdict = policy.check(who, action, team="payments", service="checkout")
            assert (verdict.allowed, verdict.requires_approval) == (True, False), (who, action)
    assert policy.check("agent:triage", "incident.assign").allowed
    assert policy.check("agent:triage", "incident.change_priority").allowed
    assert not policy.check("agent:triage", "incident.resolve").allowed
    assert policy.check("agent:security", "proposal.block_source").requires_approval
    assert policy.check("agent:security", "proposal.force_password_reset").requires_approval
    assert not policy.check("agent:security", "incident.resolve").allowed
    assert not policy.check("agent:unknown", "incident.comment").allowed


def test_the_example_policy_loads():
    path = Path(__file__).parents[3] / "examples" / "config" / "policy.yaml"
    policy = load_policy(path)
    assert policy.check("agent:security", "proposal.block_source").requires_approval
    assert not policy.check("agent:triage", "incident.resolve").allowed


@pytest.mark.parametrize(("text", "where", "reason"), [
    ("roles:\n  r:\n    allow: [incident.resolv]\n", "policy.yaml:3: roles.r.allow[0].actions[0]",
     "unknown action 'incident.resolv'"),
    ("roles:\n  r:\n    allow: [tickets.*]\n", "policy.yaml:3: roles.r.allow[0].actions[0]",
     "unknown domain 'tickets'"),
    ("roles:\n  r:\n    allow: [resolve]\n", "policy.yaml:3", "is not an action"),
    ("roles:\n  r:\n    alow: []\n", "policy.yaml:3: roles.r.alow", "unknown key 'alow'"),
    ("roles:\n  r:\n    allow:\n      - actions: [incident.*]\n        approval: later\n",
     "policy.yaml:5: roles.r.allow[0].approval", "'auto' or 'required'"),
    ("roles: {r: {allow: ['*']}}\nprincipals:\n  user:bob: [responder]\n",
     "policy.yaml:3: principals.user:bob[0].role", "role 'responder' is not defined"),
    ("principals:\n  group:ops: []\n", "policy.yaml:2: principals.group:ops",
     "group 'ops' is not defined"),
    ("principals:\n  bob: []\n", "policy.yaml", "'bob' is not a principal"),
    ("groups:\n  ops: [user:*]\n", "policy.yaml:2: groups.ops[0]", "is not a principal"),
    ("roles: [admin]\n", "policy.yaml:1: roles", "valid dictionary"),
    ("roles: {r: {allow: [\n", "policy.yaml", "not valid YAML"),
    ("- a\n", "policy.yaml:1: (file)", "expected a mapping"),
])
def test_a_bad_file_is_refused_naming_file_line_field_and_reason(text, where, reason):
    with pytest.raises(PolicyError) as err:
        parse(text, "policy.yaml")
    assert str(err.value).startswith(where), str(err.value)
    assert reason in str(err.value)


def test_a_missing_file_is_an_error_naming_it(tmp_path):
    with pytest.raises(PolicyError, match=r"nope.yaml: \(file\): cannot read"):
        load_policy(tmp_path / "nope.yaml")
