"""The mapping file: what it refuses (file, line, field, reason), what it makes of an
incident, and the way back; the lifecycle path to a state ServiceNow has."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from reasonops_contracts.incidents import IncidentView
from reasonops_servicenow.inbound import Unreachable, next_action
from reasonops_servicenow.mapping import MappingError, load, parse

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "config" / \
    "servicenow-mapping.yaml"
T0 = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def view(**changes: object) -> IncidentView:
    fields: dict[str, object] = {
        "incident_id": "INC0000042", "title": "Checkout 5xx", "state": "new",
        "service": "checkout", "resource": "web-1", "severity": "critical", "impact": 1,
        "urgency": 2, "priority": 2, "priority_reason": "matrix", "fingerprint": "f",
        "alert_count": 1, "labels": {"caller": "ana"}, "opened_at": T0, "updated_at": T0,
        "assignment_group": "payments"}
    return IncidentView.model_validate({**fields, **changes})


def test_the_example_and_the_built_in_mapping_load():
    example = load(EXAMPLE)
    assert example.rules() == ["P1/P2", "services checkout"]
    built_in = load(None)
    assert built_in.rules() == ["P1/P2"]
    assert "short_description" in built_in.fields


def test_an_incident_becomes_servicenow_fields():
    fields, problems = load(EXAMPLE).outbound(view())
    assert problems == []
    assert fields["short_description"] == "Checkout 5xx"
    assert fields["description"].endswith("ReasonOps incident INC0000042")
    assert (fields["impact"], fields["urgency"], fields["state"]) == ("1", "2", "1")
    assert fields["assignment_group"] == "Payments Support"
    assert fields["caller_id"] == "ana"
    assert fields["category"] == "inquiry"
    assert "close_code" not in fields  # only once resolved
    resolved, _ = load(EXAMPLE).outbound(view(state="resolved", note="restarted pods"))
    assert resolved["state"] == "6"
    assert resolved["close_notes"] == "restarted pods"
    assert resolved["close_code"] == "Solution provided"


def test_a_value_the_mapping_lacks_is_a_problem_naming_the_field():
    mapping = parse('fields:\n  assignment_group: {from: assignment_group, values: '
                    '{payments: Payments}}\n  urgency: {from: urgency}\ninbound: [urgency]\n',
                    "m.yaml")
    fields, problems = mapping.outbound(view(assignment_group="dba"))
    assert fields == {"urgency": "2"}
    [problem] = problems
    assert problem.field == "assignment_group"
    assert "no ServiceNow value for assignment_group 'dba'" in problem.problem
    assert mapping.local_value("assignment_group", "Payments") == "payments"
    assert mapping.local_value("assignment_group", "Elsewhere") is None
    assert mapping.local_value("urgency", "3") == "3"


@pytest.mark.parametrize(("text", "where"), [
    ("fields:\n  state: {from: status}\ninbound: []\n", "m.yaml:2: fields.state.from: unknown"),
    ("fields:\n  x: {from: title, value: a}\ninbound: []\n",
     "m.yaml:2: fields.x: give exactly one of"),
    ("fields:\n  correlation_id: {from: incident_id}\ninbound: []\n",
     "m.yaml:2: fields.correlation_id: set by the sync itself"),
    ("fields:\n  d: {template: 'see {nothing}'}\ninbound: []\n",
     "m.yaml:2: fields.d.template: unknown {nothing}"),
    ("sync:\n  - {priority: [1]}\n", "m.yaml:2: sync[0].priority: Extra inputs"),
    ("fields:\n  impact: {from: impact}\ninbound: [state]\n",
     "m.yaml:3: inbound: state comes back from ServiceNow but is not in fields"),
    ("fields: [\n", "m.yaml:2: (file): not valid YAML"),
])
def test_a_wrong_file_is_refused_with_its_line_and_field(text, where):
    with pytest.raises(MappingError) as refused:
        parse(text, "m.yaml")
    assert str(refused.value).startswith(where)


@pytest.mark.parametrize(("state", "target", "path"), [
    ("new", "acknowledged", ["acknowledge"]),
    ("new", "closed", ["resolve", "close"]),
    ("acknowledged", "on_hold", ["hold"]),
    ("on_hold", "resolved", ["resolve"]),
    ("resolved", "acknowledged", ["reopen", "acknowledge"]),
    ("resolved", "new", ["reopen"]),
])
def test_the_lifecycle_path_to_a_state_servicenow_has(state, target, path):
    after = {"acknowledge": "acknowledged", "resolve": "resolved", "close": "closed",
             "reopen": "new", "hold": "on_hold", "resume": "acknowledged"}
    taken = []
    while (action := next_action(state, target)) is not None:
        taken.append(action)
        state = after[action]
    assert taken == path


def test_a_state_the_lifecycle_cannot_reach_is_said():
    with pytest.raises(Unreachable, match="closed in ReasonOps"):
        next_action("closed", "acknowledged")
    with pytest.raises(Unreachable, match="cannot go back to new"):
        next_action("acknowledged", "new")


def test_credentials_come_from_files_or_the_environment_and_never_show(tmp_path):
    from reasonops_servicenow.app import SyncSettings

    (tmp_path / "password").write_text("s3cret-from-a-file\n")
    (tmp_path / "client-secret").write_text("oauth-secret-from-a-file\n")
    basic = SyncSettings(servicenow_user="integration",
                         servicenow_password_file=tmp_path / "password").credentials()
    assert (basic.kind, basic.password) == ("basic", "s3cret-from-a-file")
    oauth = SyncSettings(servicenow_client_id="abc",
                         servicenow_client_secret_file=tmp_path / "client-secret",
                         servicenow_user="", servicenow_password="").credentials()
    assert (oauth.kind, oauth.client_secret) == ("oauth", "oauth-secret-from-a-file")
    settings = SyncSettings(servicenow_user="u", servicenow_password="env-secret-value")
    assert settings.credentials().kind == "basic"
    assert "env-secret-value" not in repr(settings)
    assert SyncSettings().credentials().kind == "none"
    assert "s3cret" not in repr(basic)
    assert "oauth-secret" not in repr(oauth)
