"""Definition files: the format, graph checks and errors that say where."""

import pytest

from reasonops_orchestrator import catalog
from reasonops_orchestrator.definitions import ConfigError
from reasonops_orchestrator.validation import parse

HEAD = """
name: demo
version: 1
trigger: {event: IncidentOpened, filter: {priority: [1, 2]}}
steps:
"""


def bad(steps: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        parse(HEAD + steps, "demo.yaml")


def test_builtin_definitions_load():
    names = [d.name for d in catalog.load(None).newest()]
    assert names == ["change-approval", "change-review", "incident-response",
                     "major-incident", "problem", "security-incident", "sla-breach",
                     "sla-forecast"]


def test_apply_proposal_from_the_trigger_needs_a_decision_to_start_it():
    bad("""
  - {id: approve, kind: approval, timeout: 1h, title: x}
  - {id: act, kind: apply_proposal, from: trigger, depends_on: [approve]}
""", r"steps\(act\).from: 'trigger' needs a workflow started by an agent's decision")
    bad("""
  - {id: act, kind: apply_proposal, from: nothing}
""", r"steps\(act\).from: unknown step 'nothing'")


def test_a_good_definition_resolves_names_and_durations():
    d = parse(HEAD + """
  - {id: triage, kind: agent, agent: triage, timeout: 10m, retry: {attempts: 3, backoff: 5s}}
  - {id: assign, kind: command, command: AssignIncident, depends_on: [triage],
     args: {incident_id: "${trigger.incident_id}", assignment_group: x},
     when: "steps.triage.output.confidence >= 0.5"}
  - {id: wait, kind: wait_event, event: itsm.incident.resolved.v1, timeout: 30d}
  - {id: pause, kind: delay, for: 500ms}
""", "demo.yaml")
    assert d.trigger[0].event == "itsm.incident.opened.v1"
    assert d.step("triage").timeout == 600
    assert d.step("triage").retry.backoff == 5
    assert d.step("wait").timeout == 30 * 86400
    assert d.step("pause").for_ == 0.5


def test_cycle_is_printed_as_a_path():
    bad("""
  - {id: a, kind: delay, for: 1s, depends_on: [c]}
  - {id: b, kind: delay, for: 1s, depends_on: [a]}
  - {id: c, kind: delay, for: 1s, depends_on: [b]}
""", r"demo.yaml: steps\(a\).depends_on: cycle a -> c -> b -> a")


@pytest.mark.parametrize(("steps", "match"), [
    ("  - {id: a, kind: wait_event, event: IncidentAcknowledged, on_timeout: skip}",
     r"steps\(a\).on_timeout: needs a timeout"),
    ("  - {id: a, kind: approval, timeout: 1h, on_timeout: complete}",
     r"steps\(a\).on_timeout: an approval decides by its default"),
    ("  - {id: a, kind: wait_event, event: IncidentAcknowledged,\n"
     "     cancel_on: {event: IncidentResolved, filter: {colour: red}}}",
     r"steps\(a\).cancel_on.filter.colour: IncidentResolved has no field"),
    ("  - {id: a, kind: wait_event, event: IncidentAcknowledged, on_timeout: later, timeout: 1m}",
     r"steps\[0\]\(a\).on_timeout: Input should be"),
    ("  - {id: a, kind: delay, for: 1s, depends_on: [nope]}",
     r"steps\(a\).depends_on: unknown step 'nope'"),
    ("  - {id: a, kind: delay, for: 1s}\n  - {id: a, kind: delay, for: 2s}",
     r"steps\(a\).id: duplicate step id 'a'"),
    ("  - {id: a, kind: teleport}", r"steps\[0\]\(a\).kind: Input should be"),
    ("  - {id: a, kind: wait_event, event: IncidentVanished}",
     r"steps\[0\]\(a\).event: unknown event 'IncidentVanished'"),
    ("  - {id: a, kind: command, command: FlyIncident}",
     r"steps\[0\]\(a\).command: unknown command or query 'FlyIncident'"),
    ("  - {id: a, kind: command, command: GetIncident}", r"GetIncident is not a command"),
    ("  - {id: a, kind: agent, agent: oracle}", r"steps\[0\]\(a\).agent"),
    ("  - {id: a, kind: delay, for: 5 minutes}", r"steps\[0\]\(a\).for: '5 minutes' is not"),
    ("  - {id: a, kind: delay, for: 1s, timeout: -3s}", r"steps\[0\]\(a\).timeout"),
    ("  - {id: a, kind: delay}", r"steps\(a\).for: a delay step needs it"),
    ("  - {id: a, kind: delay, for: 1s, when: 'trigger.priority >'}",
     r"steps\(a\).when: expected more"),
    ("  - {id: a, kind: delay, for: 1s, when: 'trigger.priority === 1'}",
     r"steps\(a\).when: unexpected"),
    ("  - {id: a, kind: delay, for: 1s}\n  - {id: b, kind: delay, for: 1s, "
     "when: 'steps.a.output.x'}", r"steps\(b\).when: 'steps.a.output.x': step 'a' is not "
     "upstream"),
    ("  - {id: a, kind: delay, for: 1s, when: 'os.system'}", r"paths start with trigger"),
    ("  - {id: a, kind: notify, group: g, text: '${steps.zz.output}'}",
     r"steps\(a\).text: 'steps.zz.output': step 'zz' is not upstream"),
    ("  - {id: a, kind: command, command: AssignIncident, args: {colour: red}}",
     r"steps\(a\).args.colour: AssignIncident has no field 'colour'"),
])
def test_bad_steps_name_the_step_and_field(steps, match):
    bad(steps, match)


def test_bad_trigger_and_yaml():
    with pytest.raises(ConfigError, match=r"trigger.filter.colour: IncidentOpened has no field"):
        parse("name: d\nversion: 1\ntrigger: {event: IncidentOpened, filter: {colour: red}}\n"
              "steps: [{id: a, kind: delay, for: 1s}]", "d.yaml")
    with pytest.raises(ConfigError, match=r"d.yaml: \(file\): invalid YAML"):
        parse("name: [", "d.yaml")


def test_user_directory_adds_versions_and_refuses_duplicates(tmp_path):
    text = next(t for name, t in catalog.builtin_texts()
                if name == "built-in incident-response.yaml").replace("version: 2", "version: 3")
    (tmp_path / "ir.yaml").write_text(text)
    loaded = catalog.load(tmp_path)
    assert sorted(loaded.versions["incident-response"]) == [2, 3]
    assert next(d for d in loaded.newest() if d.name == "incident-response").version == 3
    (tmp_path / "again.yaml").write_text(text)
    with pytest.raises(ConfigError, match="incident-response v3 is already defined"):
        catalog.load(tmp_path)


def test_the_documented_example_is_valid():
    from pathlib import Path
    readme = (Path(__file__).resolve().parents[3] / "docs" / "guides" / "workflows.md").read_text()
    start = readme.index("```yaml\nname: major-incident") + len("```yaml\n")
    definition = parse(readme[start:readme.index("```", start)], "workflows.md")
    assert definition.version == 2


def test_a_bad_user_file_stops_the_service_with_one_line(tmp_path):
    from reasonops_orchestrator.app import OrchestratorSettings, build_service
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "x.yaml").write_text(
        "name: x\nversion: 1\ntrigger: {event: IncidentOpened}\n"
        "steps:\n  - {id: a, kind: delay, for: 1s, depends_on: [b]}\n"
        "  - {id: b, kind: delay, for: 1s, depends_on: [a]}\n")
    settings = OrchestratorSettings(workflows_dir=tmp_path / "flows", data_dir=tmp_path)
    with pytest.raises(ConfigError) as err:
        build_service(settings)
    where = tmp_path / "flows" / "x.yaml"
    assert str(err.value) == f"{where}: steps(a).depends_on: cycle a -> b -> a"
